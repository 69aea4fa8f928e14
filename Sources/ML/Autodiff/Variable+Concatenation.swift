// Concatenation and slicing as differentiable primitives. Both are linear, so the tangent of
// each is the same op on the tangents, and the pullback of each is the other: the pullback of
// a concatenation slices the cotangent into the parts' shapes; the pullback of a slice
// concatenates the cotangent between zero blocks. Written in `Dual` ops, so HVPs are exact.

extension Dual {
  /// Concatenation of primals and of tangents (a nil tangent is a zero block; all nil stays nil).
  public static func concatenated(_ parts: [Dual], alongAxis axis: Int) -> Dual {
    let primal = Tensor.concatenated(parts.map(\.primal), alongAxis: axis)
    guard parts.contains(where: { $0.tangent != nil }) else { return Dual(primal) }
    let tangents = parts.map { $0.tangent ?? Tensor(zeros: $0.shape) }
    return Dual(primal, tangent: Tensor.concatenated(tangents, alongAxis: axis))
  }

  public func sliced(alongAxis axis: Int, _ range: Range<Int>) -> Dual {
    Dual(primal.sliced(alongAxis: axis, range), tangent: tangent.map { $0.sliced(alongAxis: axis, range) })
  }
}

extension Variable {
  /// y = [x₁ | x₂ | …] along `axis` (DenseNet's channel concatenation with axis = 3 for NHWC).
  /// Pullback: x̄ₖ = ȳ[offsetₖ ..< offsetₖ + nₖ] along `axis`.
  public static func concatenated(_ parts: [Variable], alongAxis axis: Int) -> Variable {
    precondition(!parts.isEmpty, "concatenated: no parts")
    let value = Dual.concatenated(parts.map(\.value), alongAxis: axis)
    var ranges: [Range<Int>] = []
    var offset = 0
    for p in parts {
      ranges.append(offset..<(offset + p.shape[axis]))
      offset += p.shape[axis]
    }
    return record(value, inputs: parts, cotangentUse: .linear) { g, needs in
      zip(ranges, needs).map { range, need in need ? g.sliced(alongAxis: axis, range) : nil }
    }
  }

  /// y = x[range] along `axis`. Pullback: x̄ = [0 | ȳ | 0] along `axis`.
  public func sliced(alongAxis axis: Int, _ range: Range<Int>) -> Variable {
    let shape = self.shape
    return Variable.record(value.sliced(alongAxis: axis, range), inputs: [self], cotangentUse: .linear) { g, _ in
      var parts: [Dual<S>] = []
      var before = shape, after = shape
      before[axis] = range.lowerBound
      after[axis] = shape[axis] - range.upperBound
      if range.lowerBound > 0 { parts.append(Dual(Tensor(zeros: before))) }
      parts.append(g)
      if after[axis] > 0 { parts.append(Dual(Tensor(zeros: after))) }
      return [Dual.concatenated(parts, alongAxis: axis)]
    }
  }
}
