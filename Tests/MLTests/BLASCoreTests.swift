import Testing
@testable import ML

@Suite("OpenBLAS kernel choice")
struct BLASCoreTests {
  static let avx512: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

  @Test func theBestCoreFollowsTheFeatureFlags() {
    #expect(BLASCore.bestCore(flags: Self.avx512) == "SKYLAKEX")
    #expect(BLASCore.bestCore(flags: ["avx", "avx2", "fma", "avx512f"]) == "HASWELL")  // AVX-512F alone is not SkylakeX's set
    #expect(BLASCore.bestCore(flags: ["sse3", "avx"]) == nil)
  }

  @Test func onlyAFallbackOnACapableCPUIsCorrectedAndTheUserDecidesFirst() {
    // The misdetection measured on a generic-model AVX-512 VM: Prescott.
    #expect(BLASCore.correction(chosen: "Prescott", flags: Self.avx512, environment: [:]) == "SKYLAKEX")
    #expect(BLASCore.correction(chosen: "Nehalem", flags: ["avx2", "fma"], environment: [:]) == "HASWELL")
    // A recognized core stands; so does a CPU with nothing better; so does the user's choice.
    #expect(BLASCore.correction(chosen: "SkylakeX", flags: Self.avx512, environment: [:]) == nil)
    #expect(BLASCore.correction(chosen: "Haswell", flags: Self.avx512, environment: [:]) == nil)
    #expect(BLASCore.correction(chosen: "Prescott", flags: ["sse3"], environment: [:]) == nil)
    #expect(BLASCore.correction(chosen: "Prescott", flags: Self.avx512, environment: ["OPENBLAS_CORETYPE": "PRESCOTT"]) == nil)
  }

  @Test func theLibraryNamesItsCore() {
    #expect(!BLASCore.name.isEmpty && BLASCore.name != "unknown")
  }
}
