import Foundation
import ML
import Testing
@testable import Experiments

/// `repro bench`'s table and its GEMM share (`--gemm-share`).
@Suite("Benchmark report")
struct BenchmarkReportTests {
  func row(_ id: String, share: GEMMShare? = nil) -> BenchmarkRow {
    BenchmarkRow(workload: id, summary: "s", parameters: 1, parallelism: "BLAS", gradientMs: 1, sgdMomentumStepMs: 1,
                 hvpMs: 2, hvpOverGradient: 2, lanczos20Ms: 40, gradientGFLOP: 1, gradientGFLOPPerSecond: 1,
                 fractionOfPeak: 0.5, gemmShare: share)
  }

  /// The GEMM table appears only with shares, and its rest and rate follow from the row:
  /// HVP 2 ms with 1.5 ms in GEMM leaves 0.5 ms; 0.3 GFLOP in 1.5 ms is 200 GFLOP/s.
  @Test func gemmShareTable() {
    let plain = Benchmark.markdown(BenchmarkReport(threads: 2, repeats: 3, sgemmPeakGFLOPPerSecond: 200, rows: [row("W1")]))
    #expect(!plain.contains("in GEMM"))
    let text = Benchmark.markdown(BenchmarkReport(
      threads: 2, repeats: 3, sgemmPeakGFLOPPerSecond: 200,
      rows: [row("W1", share: GEMMShare(gradientGEMMMs: 0.75, hvpGEMMMs: 1.5, hvpGFLOP: 0.3))]))
    #expect(text.contains("| W1 | 1.00 | 0.75 | 0.25 | 2.00 | 1.50 | 0.50 | 0.300 | 200 |"))
    #expect(!text.contains("nan"))
  }

  /// Rows with and without a share encode as JSON and decode back.
  @Test func rowsEncode() throws {
    let report = BenchmarkReport(threads: 2, repeats: 3, sgemmPeakGFLOPPerSecond: 200,
                                 rows: [row("wrn-bn"), row("W1", share: GEMMShare(gradientGEMMMs: 1, hvpGEMMMs: 2, hvpGFLOP: 0.5))])
    let back = try JSONDecoder().decode(BenchmarkReport.self, from: try JSONEncoder().encode(report))
    #expect(back.rows[0].gemmShare == nil)
    #expect(back.rows[1].gemmShare?.hvpGEMMMs == 2)
    #expect(back.rows[0].lanczos20Ms == 40)
  }

  /// The timer counts only while on, and a product's time and FLOPs while it is. (Other tests
  /// may multiply matrices concurrently, so the counts are bounded from below, not equated.)
  @Test func gemmTimerCountsWhileOn() {
    let a = Tensor<Float>(repeating: 1, shape: [256, 256])
    GEMMCounter.reset()
    _ = Tensor.matmul(a, a)
    #expect(GEMMCounter.gemmSeconds == 0)
    #expect(GEMMCounter.total >= 2 * 256 * 256 * 256)
    GEMMCounter.timing = true
    let c = Tensor.matmul(a, a)
    GEMMCounter.timing = false
    #expect(GEMMCounter.gemmSeconds > 0)
    #expect(c.scalars[0] == 256)
  }
}
