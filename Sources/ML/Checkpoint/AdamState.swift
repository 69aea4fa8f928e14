/// Adam's state for measuring the preconditioned sharpness of a checkpoint, read from a
/// safetensors file in PyTorch's naming: for every parameter `NAME` of the model a tensor
/// `NAME.exp_avg_sq` (the second-moment EMA v, the parameter's shape, float32 or float64), and
/// the string metadata `step` (the number of Adam steps taken, ≥ 1), `beta2` (default 0.999) and
/// `eps` (default 1e-8). `NAME.exp_avg` (the first moment) may be present and is not read.
/// The preconditioner is D = √(v/(1 − β2^step)) + ε, +∞ where v = 0 (`Adam.preconditioner`).
public struct AdamState: Sendable {
  public var step: Int
  public var beta2: Double
  public var epsilon: Double

  /// Reads the state of `network`'s parameters and returns D.
  public static func preconditioner<S: TensorScalar>(from path: String, network: Network) throws -> (state: AdamState, d: [Tensor<S>]) {
    let (tensors, metadata) = try Safetensors.read(path: path)
    guard let stepText = metadata["step"], let step = Int(stepText), step >= 1 else {
      throw CheckpointError.corrupt(path, reason: "metadata 'step' must be an integer ≥ 1 (Adam steps taken), found \(metadata["step"].map { "'\($0)'" } ?? "none")")
    }
    func number(_ key: String, _ fallback: Double, _ valid: (Double) -> Bool) throws -> Double {
      guard let text = metadata[key] else { return fallback }
      guard let x = Double(text), x.isFinite, valid(x) else { throw CheckpointError.corrupt(path, reason: "metadata '\(key)' = '\(text)' is out of range") }
      return x
    }
    let beta2 = try number("beta2", 0.999) { $0 >= 0 && $0 < 1 }
    let epsilon = try number("eps", 1e-8) { $0 > 0 }
    let expected = Set(network.parameterSpecs.flatMap { ["\($0.name).exp_avg_sq", "\($0.name).exp_avg"] })
    if let unknown = tensors.keys.sorted().first(where: { !expected.contains($0) }) {
      throw CheckpointError.unknownTensor(file: path, name: unknown, expected: network.parameterSpecs.map { "\($0.name).exp_avg_sq" })
    }
    let v: [Tensor<S>] = try network.parameterSpecs.map { spec in
      let name = "\(spec.name).exp_avg_sq"
      guard let e = tensors[name] else { throw CheckpointError.missingTensor(file: path, name: name) }
      guard e.shape == spec.shape else { throw CheckpointError.shapeMismatch(file: path, name: name, expected: spec.shape, found: e.shape) }
      let t: Tensor<S> = try e.floats(file: path, name: name)
      guard t.isFinite, t.scalars.allSatisfy({ $0 >= 0 }) else {
        throw CheckpointError.corrupt(path, reason: "'\(name)' must be finite and non-negative (a second moment)")
      }
      return t
    }
    let state = AdamState(step: step, beta2: beta2, epsilon: epsilon)
    return (state, Adam<S>.preconditioner(secondMoment: v, step: step, beta2: beta2, epsilon: epsilon))
  }
}
