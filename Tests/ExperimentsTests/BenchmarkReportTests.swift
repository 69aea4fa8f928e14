import Foundation
import Testing
@testable import Experiments

/// `repro bench`'s table: the references scaled to the run's own sgemm peak.
@Suite("Benchmark report")
struct BenchmarkReportTests {
  func row(_ id: String, reference: (Double?, Double?, Double?)) -> BenchmarkRow {
    BenchmarkRow(workload: id, summary: "s", parameters: 1, parallelism: "BLAS", gradientMs: 1, sgdMomentumStepMs: 1,
                 hvpMs: 2, hvpOverGradient: 2, lanczos20Ms: 40, gradientGFLOP: 1, gradientGFLOPPerSecond: 1,
                 fractionOfPeak: 0.5, referenceGradientMs: reference.0, referenceHvpMs: reference.1,
                 referenceLanczos20Ms: reference.2)
  }

  /// A machine twice as fast as the references' halves them; rows without a reference are left
  /// out of the scaled list.
  @Test func referencesScaleWithThePeak() {
    let report = BenchmarkReport(threads: 2, repeats: 3, sgemmPeakGFLOPPerSecond: 2 * Workload.referencePeak,
                                 rows: [row("W1", reference: (3.3, 6.5, 406)), row("wrn-bn", reference: (nil, nil, nil))])
    let text = Benchmark.markdown(report)
    #expect(text.contains("(× 0.50)"))
    #expect(text.contains("W1 1.65 / 3.2 / 203 ms."))
    #expect(!text.contains("nan"))
  }

  /// The references are two-thread times: a run with another thread count is not scaled.
  @Test func otherThreadCountsAreNotScaled() {
    let report = BenchmarkReport(threads: 1, repeats: 3, sgemmPeakGFLOPPerSecond: 90, rows: [row("W1", reference: (3.3, 6.5, 406))])
    let text = Benchmark.markdown(report)
    #expect(!text.contains("Scaled"))
    #expect(text.contains("with 2 threads; this run used 1"))
  }

  /// Rows without references encode as JSON (which has no NaN) and decode back.
  @Test func rowsWithoutReferencesEncode() throws {
    let report = BenchmarkReport(threads: 2, repeats: 3, sgemmPeakGFLOPPerSecond: 200, rows: [row("wrn-bn", reference: (nil, nil, nil))])
    let data = try JSONEncoder().encode(report)
    let back = try JSONDecoder().decode(BenchmarkReport.self, from: data)
    #expect(back.rows[0].referenceGradientMs == nil)
    #expect(back.rows[0].lanczos20Ms == 40)
  }
}
