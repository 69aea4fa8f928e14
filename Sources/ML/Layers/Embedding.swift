extension Variable {
  /// Rows of a [V, D] table at fixed ids: y[r] = table[ids[r]]. Linear in the table; the
  /// pullback scatter-adds ȳ rows into a [V, D] zero table (a `Dual` op, so the HVP is exact).
  public func gatheringRows(_ ids: [Int32]) -> Variable {
    precondition(rank == 2, "gatheringRows: table must be [V, D], got \(shape)")
    let vocabulary = shape[0]
    return Variable.record(value.gatheredRows(ids), inputs: [self], cotangentUse: .linear) { g, _ in
      [g.scatterAddedRows(ids, vocabulary: vocabulary)]
    }
  }
}

/// Integer ids stored as scalars → validated row indices.
func tokenIDs<S: TensorScalar>(_ x: Tensor<S>, vocabulary: Int) -> [Int32] {
  x.withUnsafeBufferPointer { p in
    p.map { v in
      let id = Int32(v)
      precondition(S(id) == v && id >= 0 && Int(id) < vocabulary, "token id \(v) outside 0..<\(vocabulary)")
      return id
    }
  }
}

/// A lookup table: integer ids (stored as scalars) of any shape [...] → vectors [..., D].
/// Parameter `{name}.weight` [V, D], N(0, 0.02²) by default (GPT-2's initialization).
public struct Embedding: Layer {
  public let vocabulary: Int, dimension: Int
  public let weight: ParameterRef

  public init(vocabulary: Int, dimension: Int, name: String, registry: inout ParameterRegistry,
              initializer: Initializer = .normal(std: 0.02)) {
    precondition(vocabulary > 0 && dimension > 0, "Embedding sizes must be positive")
    self.vocabulary = vocabulary
    self.dimension = dimension
    weight = registry.add(ParameterSpec(name: "\(name).weight", shape: [vocabulary, dimension], initializer: initializer))
  }

  /// `x` holds ids (a constant); the result has shape x.shape + [D].
  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    precondition(!x.isTracked, "Embedding ids must be constants")
    let ids = tokenIDs(x.primal, vocabulary: vocabulary)
    return ctx[weight].gatheringRows(ids).reshaped(x.shape + [dimension])
  }
}
