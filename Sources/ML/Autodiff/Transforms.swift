/// The value of `f` at `x` and its gradient (reverse mode), times `seed` (the cotangent the
/// backward pass starts from: a data-parallel shard weights its gradient by its share of the
/// batch this way, at no extra cost).
public func valueAndGradient<S>(
  at x: [Tensor<S>], seed: S = 1, of f: ([Variable<S>]) -> Variable<S>
) -> (value: S, gradient: [Tensor<S>]) {
  let tape = Tape<S>()
  let vars = x.map { tape.variable($0) }
  let y = f(vars)
  precondition(y.primal.count == 1, "valueAndGradient needs a scalar output, got \(y.shape)")
  guard y.isTracked else { return (y.primal.scalar, x.map { Tensor(zeros: $0.shape) }) }
  let grads = tape.backward(from: y, seed: Dual(Tensor(repeating: seed, shape: y.shape)))
  return (y.primal.scalar, zip(vars, x).map { v, t in grads[v.id]?.primal ?? Tensor(zeros: t.shape) })
}

/// The gradient g of `f` at `x` and the exact Hessian-vector product H·v, by forward-over-reverse
/// differentiation: the parameters carry tangent v through the forward pass and through every
/// pullback, so the tangent of the gradient is ∂g/∂x·v = Hv (Pearlmutter 1994). With
/// `gradient: false` the parameters' primal gradients are not computed (one GEMM fewer per
/// layer) and the returned `gradient` is empty. Both results are multiplied by `seed` (see
/// `valueAndGradient`).
public func hessianVectorProduct<S>(
  at x: [Tensor<S>], direction v: [Tensor<S>], gradient wantGradient: Bool = true, seed: S = 1,
  of f: ([Variable<S>]) -> Variable<S>
) -> (value: S, gradient: [Tensor<S>], hvp: [Tensor<S>]) {
  precondition(x.count == v.count, "direction has \(v.count) tensors for \(x.count) parameters")
  let tape = Tape<S>(tangentOnlyLeaves: !wantGradient)
  let vars = zip(x, v).map { p, d in
    precondition(p.shape == d.shape, "direction shape \(d.shape) vs parameter \(p.shape)")
    return tape.variable(p, tangent: d)
  }
  let y = f(vars)
  precondition(y.primal.count == 1, "hessianVectorProduct needs a scalar output, got \(y.shape)")
  let zeros = x.map { Tensor<S>(zeros: $0.shape) }
  guard y.isTracked else { return (y.primal.scalar, wantGradient ? zeros : [], zeros) }
  let grads = tape.backward(from: y, seed: Dual(Tensor(repeating: seed, shape: y.shape)))
  let g = wantGradient ? vars.indices.map { grads[vars[$0].id]?.primal ?? zeros[$0] } : []
  let hv = vars.indices.map { grads[vars[$0].id]?.tangent ?? zeros[$0] }
  return (y.primal.scalar, g, hv)
}

/// The directional derivative of `f` at `x` along `v` (forward mode only).
public func jvp<S>(
  at x: [Tensor<S>], direction v: [Tensor<S>], of f: ([Variable<S>]) -> Variable<S>
) -> (value: Tensor<S>, tangent: Tensor<S>) {
  let vars = zip(x, v).map { Variable<S>(Dual($0, tangent: $1), id: -1, tape: nil) }
  let y = f(vars)
  return (y.primal, y.value.tangent ?? Tensor(zeros: y.shape))
}
