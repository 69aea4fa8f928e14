import Foundation
import Plotting
import Testing
@testable import Experiments

/// Fig 1's claims on hand-made outcomes: the plain residual MLP trains at η ≤ 0.3 and fails at 3.
@Suite("Fig 1 claims")
struct Fig1Tests {
  static let roles = StabilityRoles(plain: "resmlp-none", flatterInit: "resmlp-fixup", worseInit: "resmlp-none-x1.5", normalized: "resmlp-ln")

  static func point(_ model: String, _ eta: Double, warmup: Int = 0, _ status: TrainingOutcome.Status,
                    loss: Double? = nil, accuracy: Double? = nil) -> StabilityPoint {
    StabilityPoint(model: model, learningRate: eta, warmup: warmup, seed: 0, status: status,
                   lambdaInit: Lambda1(step: 0, learningRate: eta, value: 10, residual: 0),
                   lambdaMid: status == .trained ? [Lambda1(step: 15, learningRate: eta, value: 1 / eta, residual: 0)] : [],
                   finalTrainLoss: loss, initialLoss: 2.3, testLoss: loss, testAccuracy: accuracy)
  }

  /// Every fix trains at η = 3 unless listed in `failing`.
  static func data(failing: Set<String> = [], plainFailsAt3: Bool = true) -> Fig1Data {
    var points: [StabilityPoint] = []
    let rows: [(String, Int)] = [("resmlp-none", 0), ("resmlp-none", 10), ("resmlp-fixup", 0), ("resmlp-ln", 0)]
    for (k, (model, warmup)) in rows.enumerated() {
      for (j, eta) in [0.03, 0.3, 3].enumerated() {
        let isPlain = model == "resmlp-none" && warmup == 0
        let fails = eta == 3 && (isPlain ? plainFailsAt3 : failing.contains(model + (warmup > 0 ? "+w" : "")))
        let loss = 1.0 - 0.2 * Double(j) - 0.05 * Double(k)
        points.append(point(model, eta, warmup: warmup, fails ? .diverged : .trained,
                            loss: fails ? nil : loss, accuracy: fails ? nil : 0.9 - 0.3 * loss))
      }
    }
    return Fig1Data(roles: roles, warmup: 10, lossCeiling: 2.3, points: points, traces: [], missing: [])
  }

  @Test func f1HoldsWhenEveryFixTrainsWherePlainFails() {
    let c = Fig1.f1(Self.data())
    #expect(c.holds, "\(c.measured)")
    #expect(c.measured.contains("no norm: trains up to η = 0.3 (1/1 seeds), fails at η = 3 (1/1)"))
    #expect(c.measured.contains("Fixup (flatter init): trains up to η = 3 (1/1 seeds), fails at no larger η; trains where plain fails at η = 3"))
  }

  @Test func f1FailsWhenOneFixDoesNot() {
    let c = Fig1.f1(Self.data(failing: ["resmlp-fixup"]))
    #expect(!c.holds)
    #expect(c.measured.contains("Fixup (flatter init): trains up to η = 0.3 (1/1 seeds), fails at η = 3 (1/1); trains at none of the η where plain fails (3)"))
  }

  @Test func f1FailsWhenThePlainModelNeverFails() {
    let c = Fig1.f1(Self.data(plainFailsAt3: false))
    #expect(!c.holds && c.measured.contains("fails at no η"))
  }

  @Test func spearmanRanks() {
    #expect(Fig1.spearman([1, 2, 3, 4], [8, 6, 4, 2]) == -1)
    #expect(abs(Fig1.spearman([1, 2, 3, 4], [1, 3, 2, 4]) - 0.8) < 1e-12)
    // Ties take their mean rank: ranks (1.5, 1.5, 3) against (1, 2, 3).
    #expect(abs(Fig1.spearman([5, 5, 7], [1, 2, 3]) - 0.8660254037844386) < 1e-12)
    #expect(Fig1.spearman([1, 1, 1], [1, 2, 3]).isNaN)
  }

  @Test func f2ReportsRho() {
    let c = Fig1.f2(Self.data())
    #expect(c.holds && c.measured.hasPrefix("ρ = -1.00 over 11 trained runs"), "\(c.measured)")
    var d = Self.data()
    for i in d.points.indices { d.points[i].testAccuracy = d.points[i].finalTrainLoss }  // accuracy rising with loss
    #expect(!Fig1.f2(d).holds)
  }

  /// A traced run at peak η 3 measured every 10 steps, with λ1·η_t/2 = `ratios`; with warmup the
  /// rate rises linearly over `warmup` steps.
  static func trace(_ letter: String, warmup: Int, status: TrainingOutcome.Status, ratios: [Double]) -> LetteredRun {
    let steps = ratios.indices.map { 10 * $0 }
    let etas = steps.map { warmup > 0 && $0 < warmup ? 3 * Double($0 + 1) / Double(warmup) : 3.0 }
    return LetteredRun(letter: letter, role: "", model: "resmlp-none", learningRate: 3, warmup: warmup, status: status,
                       failureStep: status.failed ? 7 : nil, steps: steps, learningRates: etas,
                       lambda1: zip(ratios, etas).map { 2 * $0 / $1 })
  }

  @Test func f3WantsTheWarmupRunToTrackTwoOverEta() {
    var d = Self.data()
    // A starts above 2/η and diverges; B falls during warmup and, once in the band, stays in
    // it for 3 of 4 measurements (75 % ≥ 60 %).
    d.traces = [Self.trace("A", warmup: 0, status: .diverged, ratios: [1.5, 4]),
                Self.trace("B", warmup: 100, status: .trained, ratios: [0.05, 0.2, 0.6, 0.9, 1.3, 1.1, 0.8])]
    let c = Fig1.f3(d)
    #expect(c.holds, "\(c.measured)")
    #expect(c.measured.contains("λ1₀·η/2 = 1.5, diverged at step 7"))
    #expect(c.measured.contains("reaches 2/η_t's band at step 20, then 4 of 5 warmup measurements inside"), "\(c.measured)")
    // Mostly below the band after reaching it: λ1 falls, but does not track 2/η_t.
    d.traces[1] = Self.trace("B", warmup: 100, status: .trained, ratios: [0.05, 0.6, 0.3, 0.2, 0.2, 0.3])
    #expect(!Fig1.f3(d).holds)
    // A collapse without warmup is a failure as a divergence is.
    d.traces = [Self.trace("A", warmup: 0, status: .collapsed, ratios: [1.5, 4]),
                Self.trace("B", warmup: 100, status: .trained, ratios: [0.05, 0.2, 0.6, 0.9, 1.1, 1.0])]
    #expect(Fig1.f3(d).holds)
    d.traces = []
    d.missing = ["A (diverges within a few steps)", "B (same η with warmup)"]
    #expect(!Fig1.f3(d).holds)
  }

  @Test func figureAndTableDrawHandMadeData() {
    var d = Self.data()
    d.traces = [Self.trace("A", warmup: 0, status: .diverged, ratios: [1.5, 4]),
                Self.trace("B", warmup: 30, status: .trained, ratios: [0.01, 0.6, 0.9, 1.05])]
    let fig = Fig1().figure(d, caption: "test")
    #expect(fig.rows == 1 && fig.cols == 3)
    #expect(!fig.scene().primitives.isEmpty)
    let table = Fig1().table(d)
    #expect(table.contains("with LayerNorm") && table.contains("diverged"))
  }
}
