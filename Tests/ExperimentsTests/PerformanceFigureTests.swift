import Foundation
import Plotting
import Testing
@testable import Experiments

@Suite("Fig 2 performance figure (Figs 9–12)")
struct PerformanceFigureTests {
  @Test(arguments: [("wrn-nobn-x1.5", "wrn"), ("wrn-bn", "wrn"), ("densenet-nobn", "densenet"), ("resnet-relu-bn", "resnet"),
                    ("lm-pre", "lm"), ("resmlp-none", "resmlp"), ("mlp-relu", "mlp")])
  func familiesAreTheIdPrefix(row: String, family: String) {
    #expect(ModelCatalog.family(row) == family)
  }

  @Test func oneRowPerFamilyFourColumns() throws {
    let models = ["wrn-bn", "wrn-nobn", "lm-pre", "wrn-nobn-x1.5"]
    var points: [StabilityPoint] = []
    for m in models {
      for eta in [0.1, 1] {
        for w in [0, 50] {
          let ok = eta < 1 || w > 0
          points.append(StabilityPoint(model: m, learningRate: eta, warmup: w, seed: 0, status: ok ? .trained : .diverged,
                                       lambdaInit: Lambda1(step: 0, learningRate: eta, value: 5, residual: 0), finalTrainLoss: ok ? 0.5 : nil, initialLoss: 2.3, testAccuracy: ok ? 0.8 : nil))
        }
      }
    }
    let d = Fig2Data(models: models, momentum: 0.9, nesterov: nil, midStep: 100, midSteps: [100],
                     roles: StabilitySweep.settings(for: .tiny, seed: 0).roles, points: points)
    let extra = Fig2().additionalFigures(d, caption: "test")
    #expect(extra.map(\.suffix) == ["performance"])
    let fig = try #require(extra.first?.figure)
    #expect(fig.rows == 2 && fig.cols == 4)  // WideResNet, then Transformer LM
    #expect(fig[0, 0].title == "WideResNet: train loss, no warmup" && fig[1, 3].title == "Transformer LM: next-char accuracy, warmup 50")
    #expect(!fig.scene().primitives.isEmpty)
  }
}
