/// The record of one forward pass, in execution order (which is a topological order), so the
/// backward pass is a single reverse sweep. Nodes are references; the data they hold are values.
public final class Tape<S: TensorScalar> {
  @usableFromInline
  struct Node {
    let inputs: [Int]
    /// Cotangent of the output → cotangents of the inputs (nil for inputs that need none).
    let pullback: ((Dual<S>) -> [Dual<S>?])?
    /// Whether anyone reads the primal part of this node's cotangent. False for parameters when
    /// only Hessian-vector products are wanted, and for every node whose cotangent reaches only
    /// such parameters through ops that do not read it (see `CotangentUse`): pullbacks then
    /// skip those primals (the weight gradient, the input cotangent of the second ReLU
    /// convolution), as XLA's dead-code elimination does for jvp∘grad.
    let primalNeeded: Bool
  }

  @usableFromInline var nodes: [Node] = []
  /// Set when the caller reads only the tangents of the leaves' cotangents (H·v, not ∇L).
  public let tangentOnlyLeaves: Bool

  public init(tangentOnlyLeaves: Bool = false) { self.tangentOnlyLeaves = tangentOnlyLeaves }

  /// A tracked leaf (a parameter being differentiated).
  public func variable(_ value: Dual<S>) -> Variable<S> {
    nodes.append(Node(inputs: [], pullback: nil, primalNeeded: !tangentOnlyLeaves))
    return Variable(value, id: nodes.count - 1, tape: self)
  }

  public func variable(_ value: Tensor<S>, tangent: Tensor<S>? = nil) -> Variable<S> {
    variable(Dual(value, tangent: tangent))
  }

  @usableFromInline
  func record(inputs: [Int], primalNeeded: Bool, pullback: @escaping (Dual<S>) -> [Dual<S>?]) -> Int {
    nodes.append(Node(inputs: inputs, pullback: pullback, primalNeeded: primalNeeded))
    return nodes.count - 1
  }

  /// Reverse sweep from `output` with cotangent `seed`; returns the cotangent of every node
  /// (nil where none reached it).
  public func backward(from output: Variable<S>, seed: Dual<S>) -> [Dual<S>?] {
    precondition(output.tape === self, "backward: output is not on this tape")
    var grads = [Dual<S>?](repeating: nil, count: nodes.count)
    grads[output.id] = seed
    for id in stride(from: output.id, through: 0, by: -1) {
      guard let g = grads[id], let pullback = nodes[id].pullback else { continue }
      grads[id] = nil  // release early: peak memory stays near one activation set
      let inputGrads = pullback(g)
      for (input, ig) in zip(nodes[id].inputs, inputGrads) {
        guard let ig, input >= 0 else { continue }
        if let existing = grads[input] { grads[input] = existing + ig } else { grads[input] = ig }
      }
    }
    return grads
  }
}

/// A value in a differentiable computation: its `Dual` value and, when tracked, its node on a
/// tape. Untracked variables (data, labels) are constants.
public struct Variable<S: TensorScalar>: @unchecked Sendable {
  public let value: Dual<S>
  @usableFromInline let id: Int
  @usableFromInline let tape: Tape<S>?

  @usableFromInline init(_ value: Dual<S>, id: Int, tape: Tape<S>?) {
    self.value = value
    self.id = id
    self.tape = tape
  }

  /// A constant (not differentiated).
  public init(constant: Tensor<S>) { self.init(Dual(constant), id: -1, tape: nil) }

  public var primal: Tensor<S> { value.primal }
  public var shape: [Int] { value.primal.shape }
  public var rank: Int { value.primal.rank }
  public var isTracked: Bool { tape != nil }

  /// Whether the primal part of this variable's cotangent is read by anyone (see
  /// `Tape.Node.primalNeeded`); pullbacks may skip computing it when not.
  public var needsPrimalCotangent: Bool { tape.map { $0.nodes[id].primalNeeded } ?? false }

  /// Records an op with output `value` computed from `inputs`. `pullback` receives the output
  /// cotangent and the flags of which inputs are tracked (skip work for the others).
  /// `cotangentUse` says when the pullback reads the primal of that cotangent (see
  /// `CotangentUse`); where nobody does, it may hold anything.
  @inlinable
  public static func record(
    _ value: Dual<S>, inputs: [Variable<S>], cotangentUse: CotangentUse = .nonlinear,
    pullback: @escaping (_ g: Dual<S>, _ needs: [Bool]) -> [Dual<S>?]
  ) -> Variable<S> {
    guard let tape = inputs.lazy.compactMap(\.tape).first else {
      return Variable(value, id: -1, tape: nil)
    }
    let needs = inputs.map { $0.tape != nil }
    for input in inputs where input.tape != nil {
      precondition(input.tape === tape, "variables from different tapes")
    }
    let ids = inputs.map(\.id)
    let id = tape.record(inputs: ids, primalNeeded: primalCotangentNeeded(cotangentUse, inputs)) { g in
      pullback(g, needs)
    }
    return Variable(value, id: id, tape: tape)
  }

  /// Whether the primal of the cotangent of an op's output is read, by the op's own pullback
  /// or, through the inputs' cotangents (pullbacks are linear in it), by anyone upstream.
  @inlinable
  public static func primalCotangentNeeded(_ use: CotangentUse, _ inputs: [Variable<S>]) -> Bool {
    if inputs.contains(where: \.needsPrimalCotangent) { return true }
    switch use {
    case .linear: return false
    case .nonlinear: return true
    case .bilinear:
      precondition(inputs.count == 2, "a bilinear op has two inputs, got \(inputs.count)")
      let (a, b) = (inputs[0], inputs[1])
      return (a.value.tangent != nil && b.isTracked) || (b.value.tangent != nil && a.isTracked)
    }
  }
}

/// How an op's pullback x̄ = J(x)ᵀ·ḡ reads the primal ḡ of its output cotangent. Its tangent,
/// what a Hessian-vector product is made of, is J(x)ᵀ·Ẏ̄ + (∂J(x)ᵀ·ẋ)·ḡ: ḡ is read only
/// through the second term, where the Jacobian moves with an input that carries a tangent.
/// Declaring it lets the tape skip primals that nobody reads (`Tape.Node.primalNeeded`).
public enum CotangentUse: Sendable {
  /// A constant or piecewise-constant Jacobian (reshapes, sums, broadcasts, slices, gathers,
  /// scaling, ReLU, max pooling): the tangent is J·Ẏ̄ alone.
  case linear
  /// A product of its two inputs (a matrix product, a convolution, an element-wise product):
  /// ḡ is read when one input carries a tangent and the other needs a cotangent.
  case bilinear
  /// Anything else: ḡ is always read.
  case nonlinear
}
