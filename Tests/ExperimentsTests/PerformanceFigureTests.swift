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

  @Test func fig2PagesHoldWholeFamiliesAtMostEightModelsEach() {
    // The small survey: 6 residual MLPs, 5 WRNs, 2 DenseNets, 3 ResNets, 3 LMs.
    let pages = Fig2.pages(StabilitySweep.smallModels)
    #expect(pages.map(\.count) == [6, 7, 6])
    #expect(pages.allSatisfy { $0.count <= Fig2.modelsPerPage })
    #expect(pages.flatMap { $0 } == StabilitySweep.smallModels)
    // No family is split across pages.
    let families = pages.map { Set($0.map(ModelCatalog.family)) }
    for (a, b) in zip(families, families.dropFirst()) { #expect(a.isDisjoint(with: b)) }
    // A family longer than a page is cut into pages of its own.
    #expect(Fig2.pages((0..<10).map { "wrn-bn-x\($0 + 1)" } + ["lm-pre"]).map(\.count) == [8, 3])
  }

  @Test func fig2SharesOneYRangeAcrossAFamilysPanels() throws {
    func point(_ m: String, _ l0: Double) -> StabilityPoint {
      StabilityPoint(model: m, learningRate: 0.1, warmup: 0, seed: 0, status: .trained,
                     lambdaInit: Lambda1(step: 0, learningRate: 0.1, value: l0, residual: 0), finalTrainLoss: 0.5, initialLoss: 2.3, testAccuracy: 0.8)
    }
    let d = Fig2Data(models: ["wrn-bn", "wrn-nobn", "lm-pre"], momentum: 0.9, nesterov: nil, midStep: 100, midSteps: [100],
                     roles: StabilitySweep.settings(for: .tiny, seed: 0).roles, points: [point("wrn-bn", 2), point("wrn-nobn", 300), point("lm-pre", 50)])
    let wrn = try #require(Fig2.familyLimits(d, family: "wrn"))
    #expect(wrn == 1...600)
    let fig = Fig2().figure(d, caption: "")
    // Both WRN rows' four panels carry the family's limits; the LM is on the same page but its own range.
    #expect(fig.axes.prefix(4).allSatisfy { $0.y.limits == wrn })
    #expect(fig[1, 0].y.limits == Fig2.familyLimits(d, family: "lm") && fig[1, 0].y.limits != wrn)
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
    #expect(extra.map(\.suffix) == ["performance"])  // four models: one page
    let fig = try #require(extra.first?.figure)
    #expect(fig.rows == 2 && fig.cols == 4)  // WideResNet, then Transformer LM
    #expect(fig[0, 0].title == "WideResNet: train loss, no warmup" && fig[1, 3].title == "Transformer LM: next-char accuracy, warmup 50")
    #expect(!fig.scene().primitives.isEmpty)
  }
}
