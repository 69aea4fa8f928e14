// Differentiable operations on `Variable`s. Each op's pullback sits beside it and is written in
// `Dual` operations, so it is itself differentiated forward-mode when the parameters carry a
// tangent: that is what makes `hessianVectorProduct` exact.

extension Variable {
  // MARK: Arithmetic with broadcasting

  public static func + (a: Variable, b: Variable) -> Variable {
    let (sa, sb) = (a.shape, b.shape)
    // A broadcast operand's (a bias's) sum is skipped when nobody reads it (see `CotangentUse`).
    let (pa, pb) = (a.needsPrimalCotangent, b.needsPrimalCotangent)
    return record(a.value + b.value, inputs: [a, b], cotangentUse: .linear) { g, needs in
      [needs[0] ? g.sum(toShape: sa, primal: pa) : nil, needs[1] ? g.sum(toShape: sb, primal: pb) : nil]
    }
  }

  public static func - (a: Variable, b: Variable) -> Variable {
    let (sa, sb) = (a.shape, b.shape)
    return record(a.value - b.value, inputs: [a, b], cotangentUse: .linear) { g, needs in
      [needs[0] ? g.sum(toShape: sa) : nil, needs[1] ? (-g).sum(toShape: sb) : nil]
    }
  }

  public static prefix func - (a: Variable) -> Variable {
    record(-a.value, inputs: [a], cotangentUse: .linear) { g, _ in [-g] }
  }

  public static func * (a: Variable, b: Variable) -> Variable {
    let (va, vb) = (a.value, b.value)
    return record(va * vb, inputs: [a, b], cotangentUse: .bilinear) { g, needs in
      [needs[0] ? (g * vb).sum(toShape: va.shape) : nil,
       needs[1] ? (g * va).sum(toShape: vb.shape) : nil]
    }
  }

  public static func / (a: Variable, b: Variable) -> Variable {
    let (va, vb) = (a.value, b.value)
    let y = va / vb
    return record(y, inputs: [a, b]) { g, needs in
      [needs[0] ? (g / vb).sum(toShape: va.shape) : nil,
       needs[1] ? (-(g * y) / vb).sum(toShape: vb.shape) : nil]
    }
  }

  /// a·x + b for scalars.
  public func affine(scale a: S, shift b: S = 0) -> Variable {
    Variable.record(value.affine(scale: a, shift: b), inputs: [self], cotangentUse: .linear) { g, _ in
      [g.affine(scale: a)]
    }
  }

  public static func * (a: Variable, s: S) -> Variable { a.affine(scale: s) }
  public static func + (a: Variable, s: S) -> Variable { a.affine(scale: 1, shift: s) }

  /// Product with a constant tensor (a dropout mask, a one-hot target).
  public func multiplied(byConstant c: Tensor<S>) -> Variable {
    let shape = self.shape
    return Variable.record(value.multiplied(byConstant: c), inputs: [self], cotangentUse: .linear) { g, _ in
      [g.multiplied(byConstant: c).sum(toShape: shape)]
    }
  }

  // MARK: Matrix products

  /// op(a)·op(b); see `Tensor.matmul` for the shapes.
  public static func matmul(
    _ a: Variable, transposeA: Bool = false, _ b: Variable, transposeB: Bool = false
  ) -> Variable {
    let (va, vb) = (a.value, b.value)
    let y = Dual.matmul(va, transposeA: transposeA, vb, transposeB: transposeB)
    let folded = vb.rank == 2 && !transposeA && va.rank > 2
    // A cotangent whose primal nobody reads gets its tangent only: in HVP-only passes the
    // weight's gradient Aᵀ·Ȳ (one GEMM fewer per layer), and the input's Ȳ·Bᵀ where only
    // parameters that want no gradient lie behind it.
    let productA = Dual<S>.matmul(primal: a.needsPrimalCotangent)
    let product = Dual<S>.matmul(primal: b.needsPrimalCotangent)
    return record(y, inputs: [a, b], cotangentUse: .bilinear) { g, needs in
      // With y = A·B: Ā = Ȳ·Bᵀ, B̄ = Aᵀ·Ȳ, with the transposes moved by the flags.
      var ga: Dual<S>? = nil, gb: Dual<S>? = nil
      if needs[0] {
        ga = transposeA ? productA(vb, transposeB, g, true) : productA(g, false, vb, !transposeB)
      }
      if needs[1] {
        if folded {
          // b is shared across a's leading dimensions: fold them into one GEMM.
          let k = va.shape[va.rank - 1], n = g.shape[g.rank - 1]
          let a2 = va.reshaped([-1, k]), g2 = g.reshaped([-1, n])
          gb = transposeB ? product(g2, true, a2, false) : product(a2, true, g2, false)
        } else {
          gb = transposeB ? product(g, true, va, transposeA) : product(va, !transposeA, g, false)
          if vb.rank == 2 && gb!.rank > 2 { gb = gb!.sum(toShape: vb.shape) }
        }
      }
      return [ga, gb]
    }
  }

  // MARK: Element-wise

  public func tanh() -> Variable {
    let y = value.applying(.tanh)
    return Variable.record(y, inputs: [self]) { g, _ in [Dual.tanhPullback(output: y, cotangent: g)] }
  }

  /// ReLU with the almost-everywhere derivative (0 at 0).
  public func relu() -> Variable {
    let y = value.relu()
    // The mask [x > 0] is read from the output in the pullback: no extra pass or tensor here.
    let primal = Variable.primalCotangentNeeded(.linear, [self])
    return Variable.record(y, inputs: [self], cotangentUse: .linear) { g, _ in
      [Dual.reluPullback(output: y.primal, cotangent: g, primal: primal)]
    }
  }

  public func exp() -> Variable {
    let y = value.applying(.exp)
    return Variable.record(y, inputs: [self]) { g, _ in [g * y] }
  }

  public func log() -> Variable {
    let x = value
    return Variable.record(x.applying(.log), inputs: [self]) { g, _ in [g / x] }
  }

  public func sqrt() -> Variable {
    let y = value.applying(.sqrt)
    return Variable.record(y, inputs: [self]) { g, _ in [(g / y).affine(scale: 0.5)] }
  }

  /// 1/√x; derivative −½·y³.
  public func rsqrt() -> Variable {
    let y = value.applying(.rsqrt)
    return Variable.record(y, inputs: [self]) { g, _ in [(g * y * y * y).affine(scale: -0.5)] }
  }

  public func square() -> Variable {
    let x = value
    return Variable.record(x.applying(.square), inputs: [self]) { g, _ in
      [(g * x).affine(scale: 2)]
    }
  }

  public func sigmoid() -> Variable {
    let y = value.applying(.sigmoid)
    return Variable.record(y, inputs: [self]) { g, _ in [g * y * y.affine(scale: -1, shift: 1)] }
  }

  /// erf; derivative 2/√π·e^{−x²}.
  public func erf() -> Variable {
    let x = value
    return Variable.record(x.applying(.erf), inputs: [self]) { g, _ in
      let d = (x * x).affine(scale: -1).applying(.exp).affine(scale: S(2 / Double.pi.squareRoot()))
      return [g * d]
    }
  }

  // MARK: Shape and reductions

  public func reshaped(_ newShape: [Int]) -> Variable {
    let old = shape
    return Variable.record(value.reshaped(newShape), inputs: [self], cotangentUse: .linear) { g, _ in
      [g.reshaped(old)]
    }
  }

  public func transposed(_ perm: [Int]) -> Variable {
    var inverse = [Int](repeating: 0, count: perm.count)
    for (i, p) in perm.enumerated() { inverse[p] = i }
    return Variable.record(value.transposed(perm), inputs: [self], cotangentUse: .linear) { g, _ in [g.transposed(inverse)] }
  }

  public func sum(toShape target: [Int]) -> Variable {
    let old = shape
    return Variable.record(value.sum(toShape: target), inputs: [self], cotangentUse: .linear) { g, _ in
      [g.broadcast(to: old)]
    }
  }

  public func broadcast(to target: [Int]) -> Variable {
    let old = shape
    return Variable.record(value.broadcast(to: target), inputs: [self], cotangentUse: .linear) { g, _ in
      [g.sum(toShape: old)]
    }
  }

  /// Sum of all entries (rank 0).
  public func sum() -> Variable { sum(toShape: []) }

  /// Mean of all entries (rank 0).
  public func mean() -> Variable { sum().affine(scale: 1 / S(Swift.max(primal.count, 1))) }

  /// Sum over one axis, kept as size 1.
  public func sum(alongAxis axis: Int) -> Variable {
    var target = shape
    target[axis] = 1
    return sum(toShape: target)
  }

  /// Mean over one axis, kept as size 1.
  public func mean(alongAxis axis: Int) -> Variable {
    sum(alongAxis: axis).affine(scale: 1 / S(shape[axis]))
  }

  /// Softmax over the last axis. With `causal`, the last two axes are a [T, T] grid of
  /// queries × keys and query i attends only to keys j ≤ i: the same values as adding −∞ above
  /// the diagonal first, without the mask pass, and half the exponentials.
  public func softmax(causal: Bool = false) -> Variable {
    let s = value.softmaxLastAxis(causal: causal)
    return Variable.record(s, inputs: [self]) { g, _ in
      // x̄ = s ⊙ (ḡ − Σ s ḡ), fused with its tangent.
      [Dual.softmaxPullback(output: s, cotangent: g, causal: causal)]
    }
  }
}
