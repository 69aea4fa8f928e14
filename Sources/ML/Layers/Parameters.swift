/// How a parameter is initialized. Fan-in and fan-out come from the parameter's spec.
public enum Initializer: Sendable, Hashable {
  /// N(0, 1/fan_in) (LeCun et al. 1998): the paper's default.
  case lecunNormal
  /// N(0, 2/fan_in) (He et al. 2015).
  case heNormal
  /// U(±√(6/(fan_in + fan_out))) (Glorot & Bengio 2010).
  case glorotUniform
  case zeros
  case ones
  /// N(0, std²).
  case normal(std: Double)
  case constant(Double)
}

/// A named parameter of a model with its shape and initialization.
public struct ParameterSpec: Sendable, Hashable {
  public var name: String
  public var shape: [Int]
  public var initializer: Initializer
  public var fanIn: Int
  public var fanOut: Int

  public init(name: String, shape: [Int], initializer: Initializer, fanIn: Int? = nil, fanOut: Int? = nil) {
    self.name = name
    self.shape = shape
    self.initializer = initializer
    self.fanIn = fanIn ?? shape.dropLast().reduce(1, *)
    self.fanOut = fanOut ?? (shape.last ?? 1)
  }
}

/// Index of a parameter (or a state buffer) in its model's list.
public struct ParameterRef: Sendable, Hashable { public let index: Int }

/// Collects the parameters and state buffers of a model as its layers are built, so each layer
/// holds integer references and the model's parameter order is the order of construction.
public struct ParameterRegistry: Sendable {
  public private(set) var specs: [ParameterSpec] = []
  /// Non-trainable state (BatchNorm running statistics), with initial values.
  public private(set) var buffers: [ParameterSpec] = []

  public init() {}

  public mutating func add(_ spec: ParameterSpec) -> ParameterRef {
    precondition(!specs.contains { $0.name == spec.name }, "duplicate parameter name \(spec.name)")
    specs.append(spec)
    return ParameterRef(index: specs.count - 1)
  }

  public mutating func addBuffer(_ spec: ParameterSpec) -> ParameterRef {
    buffers.append(spec)
    return ParameterRef(index: buffers.count - 1)
  }

  /// Whether some layer draws random numbers during `.training` (dropout). Its mask is drawn
  /// across the whole batch from one stream, so such a network's training step cannot be
  /// split among threads by examples (see `Network.shardRanges`).
  public private(set) var drawsRandomness = false

  /// Declares that a layer being built draws random numbers in `.training`.
  public mutating func noteRandomness() { drawsRandomness = true }

  /// Whether the model's products have one row per example (an MLP: every GEMM is [batch, in] ×
  /// [in, out]). Such a model keeps its batch whole at any thread count: its GEMMs are nearly
  /// all its work, OpenBLAS splits them well, and shards would shrink the weight gradients'
  /// inner dimension and add a parameter-sized sum (W1: 4.1 ms whole against 4.4 ms in two
  /// shards for the gradient, 9.3 against 11.9 for the HVP). Only speed depends on it.
  public private(set) var oneRowPerExample = false

  /// Declares that the model being built multiplies one row per example.
  public mutating func noteOneRowPerExample() { oneRowPerExample = true }
}

extension ParameterSpec {
  /// Draws the initial value, multiplied by the global init scale α (the paper's "1.5× init"
  /// multiplies every initial variable).
  public func initialValue<S: TensorScalar>(scale alpha: Double, rng: inout SplitMix64) -> Tensor<S> {
    let n = shape.reduce(1, *)
    var values = [S](repeating: 0, count: n)
    switch initializer {
    case .zeros: break
    case .ones: for i in 0..<n { values[i] = S(alpha) }
    case .constant(let c): for i in 0..<n { values[i] = S(alpha * c) }
    case .lecunNormal, .heNormal, .normal:
      let std: Double
      switch initializer {
      case .lecunNormal: std = (1 / Double(max(fanIn, 1))).squareRoot()
      case .heNormal: std = (2 / Double(max(fanIn, 1))).squareRoot()
      case .normal(let s): std = s
      default: std = 0
      }
      for i in 0..<n { values[i] = S(alpha * std * rng.nextNormal()) }
    case .glorotUniform:
      let limit = (6 / Double(max(fanIn + fanOut, 1))).squareRoot()
      for i in 0..<n { values[i] = S(alpha * limit * (2 * rng.nextUniform() - 1)) }
    }
    return Tensor(shape: shape, scalars: values)
  }
}
