import Foundation
import ML

/// A run's checkpoints at its curvature measurements (`--save-checkpoints`), so any point of any
/// figure can be measured again or explored with `repro hessian`:
/// - `batch.safetensors`: the run's measurement set as `repro hessian --batch` reads it (x, y);
/// - `step-<k>.safetensors`: the parameters at measured step k, with metadata `model` (the
///   `repro hessian --model` spec, when the model has one), `step`, `learning_rate`;
/// - `step-<k>-adam.safetensors`, for Adam after its first step: `NAME.exp_avg_sq` for every
///   parameter and metadata `step`, `beta2`, `eps` (`repro hessian --adam-state`).
/// Each file is written atomically. BatchNorm models are measured in training over ghost batches
/// of the batch size: pass `--chunk <batch size>` to `repro hessian` to measure that function.
struct RunCheckpoints {
  let directory: String
  let network: Network
  /// `repro hessian --model` for this run (nil for the models it does not take: plain MLPs of a
  /// sweep's width, the translation models).
  let spec: String?

  init(directory: String, recipe: TrainingRecipe, network: Network, measurement: Batch<Float>) throws {
    self.directory = directory
    self.network = network
    let id = recipe.model
    spec = CurvatureModel.zooIDs.contains(id) ? "\(id):\(recipe.data.size.rawValue)" : nil
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw HarnessError.unwritable(directory, reason: error.localizedDescription)
    }
    let n = measurement.count
    let x: SafetensorsEntry, y: SafetensorsEntry
    if recipe.isLanguageModel {
      // Token ids as int64 [N, T]; next-token labels [N, T].
      x = SafetensorsEntry(integers: measurement.inputs.scalars.map { Int($0) }, shape: measurement.inputs.shape)
      y = SafetensorsEntry(integers: measurement.labels, shape: [n, measurement.labels.count / n])
    } else {
      x = SafetensorsEntry(measurement.inputs)
      let perExample = measurement.labels.count / n
      y = SafetensorsEntry(integers: measurement.labels, shape: perExample == 1 ? [n] : [n, perExample])
    }
    try Safetensors.write([("x", x), ("y", y)], metadata: spec.map { ["model": $0] } ?? [:], to: directory + "/batch.safetensors")
  }

  func write(step: Int, learningRate: Double, parameters: [Tensor<Float>], optimizer: AnyOptimizer<Float>) throws {
    var metadata = ["step": "\(step)", "learning_rate": "\(learningRate)"]
    if let spec { metadata["model"] = spec }
    try network.saveCheckpoint(parameters, to: directory + "/step-\(step).safetensors", metadata: metadata)
    if case .adam(let adam) = optimizer.storage, adam.stepCount > 0 {
      try Safetensors.write(zip(network.parameterSpecs, adam.secondMoment).map { ("\($0.name).exp_avg_sq", SafetensorsEntry($1)) },
                            metadata: ["step": "\(adam.stepCount)", "beta2": "\(adam.beta2)", "eps": "\(adam.epsilon)"],
                            to: directory + "/step-\(step)-adam.safetensors")
    }
  }
}
