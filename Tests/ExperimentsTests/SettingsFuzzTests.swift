import Foundation
import ML
import Testing
@testable import Experiments

/// `--set key=value` as a hostile user types it: every value either fails with one error that
/// names the key (before any training) or yields settings whose every run is a valid recipe.
@Suite("Fuzz: --set overrides of the stability sweep")
struct SettingsFuzzTests {
  /// Validates as the runner does before training: the fields, then the settings and recipes.
  func resolve(_ overrides: [String]) throws -> StabilitySettings {
    var s = StabilitySweep.settings(for: .tiny, seed: 0)
    try s.apply(overrides: overrides)
    try Fig2().validate(s)
    return s
  }

  @Test("the reliability issue's crashers are rejected with the key in the message")
  func reproducers() {
    let crashers = ["batchSize=0", "measurementExamples=0", "trainExamples=0", "snapshotEvery=0", "traceEvery=0",
                    "batchSize=-1", "batchSize=100000", "trainExamples=10", "momentum=-1", "momentum=1.5", "width=-4",
                    "measurementExamples=-1", "lanczosIterations=-3", "steps=-5", "learningRates=-0.1", "learningRates=1e300",
                    "warmups=100000", "midStep=0", "lanczosTolerance=-1", "seeds=-1", "seeds=18446744073709551615",
                    "learningRates=nan", "models=", "models=wrn-nobn,"]
    for item in crashers {
      do {
        _ = try resolve([item])
        Issue.record("accepted \(item)")
      } catch let e as HarnessError {
        let key = String(item.prefix { $0 != "=" })
        #expect(e.description.contains(key), "\(e)")
      } catch let e as RecipeTrainer.InvalidRecipe {
        #expect(!e.problems.isEmpty)
      } catch {
        Issue.record("unexpected error \(error) for \(item)")
      }
    }
    // A batch larger than the training set is caught by the settings, before any data is read.
    #expect(throws: RecipeTrainer.InvalidRecipe.self) { _ = try resolve(["trainExamples=200", "batchSize=201"]) }
  }

  @Test("10 000 mutated overrides: a clean error or settings whose every recipe is valid")
  func mutatedOverrides() throws {
    var rng = SplitMix64(seed: 7)
    let keys = StabilitySettings.fields.map(\.name)
    let preset = StabilitySweep.settings(for: .tiny, seed: 0).fieldValues
    let values = ["0", "1", "-1", "2", "7", "40", "1e3", "0.5", "1.0", "nan", "inf", "-0", "", ",", "1,,2", "0.1,0.3",
                  "99999999999999999999", "9223372036854775807", "true", "tiny", "small", "resmlp-none", "mlp-relu-x2",
                  "wrn-nobn-x-1", "resmlp-none-x0", "3,10", "20,30", "0.999", "1e-9"]
    var accepted = 0
    for _ in 0..<10_000 {
      let n = Int.random(in: 1...3, using: &rng)
      let items = (0..<n).map { _ -> String in
        var key = keys.randomElement(using: &rng)!
        if Int.random(in: 0..<20, using: &rng) == 0 { key += "x" }
        // Half the values are the preset's own (valid, so the accepting side is reached too).
        var value = Int.random(in: 0..<2, using: &rng) == 0
          ? (preset.first { $0.name == key }?.value ?? "") : values.randomElement(using: &rng)!
        if Int.random(in: 0..<4, using: &rng) == 0 { value += values.randomElement(using: &rng)! }
        return Int.random(in: 0..<30, using: &rng) == 0 ? key : "\(key)=\(value)"
      }
      do {
        let s = try resolve(items)
        accepted += 1
        #expect(s.problems.isEmpty)
        for r in StabilitySweep.runs(s) { #expect(r.problems.isEmpty, "\(items)") }
      } catch is HarnessError {} catch is RecipeTrainer.InvalidRecipe {} catch {
        Issue.record("unexpected error \(error) for \(items)")
      }
    }
    #expect(accepted > 500, "accepted \(accepted)")
  }
}
