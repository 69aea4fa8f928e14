/// Softmax cross-entropy, averaged over the examples:
/// L = (1/N) Σᵢ [logΣ_c exp(z_ic) − Σ_c q_ic z_ic], with smoothed targets
/// q = (1 − ε)·onehot(y) + ε/C (label smoothing ε, Szegedy et al. 2016).
///
/// The pullback z̄ = L̄·(softmax(z) − q)/N is written in `Dual` ops, so its tangent gives the
/// exact Hessian-vector product through the loss.
public func softmaxCrossEntropy<S>(
  logits z: Variable<S>, labels: [Int], labelSmoothing eps: Double = 0
) -> Variable<S> {
  precondition(z.rank == 2, "softmaxCrossEntropy expects logits [N, C], got \(z.shape)")
  precondition(labels.count == z.shape[0], "\(labels.count) labels for \(z.shape[0]) examples")
  precondition(eps >= 0 && eps < 1, "label smoothing must be in [0, 1)")
  return softmaxCrossEntropy(logits: z, targets: smoothedTargets(labels: labels, classes: z.shape[1], eps: S(eps)))
}

/// Softmax cross-entropy against soft targets q (rows summing to 1): mixup's
/// λ·onehot(y) + (1 − λ)·onehot(y[π]), or smoothed labels.
public func softmaxCrossEntropy<S>(logits z: Variable<S>, targets q: Tensor<S>) -> Variable<S> {
  precondition(z.rank == 2 && q.shape == z.shape, "softmaxCrossEntropy: logits \(z.shape) vs targets \(q.shape)")
  let n = z.shape[0]
  let s = z.value.softmaxLastAxis()
  // L = mean(lse − q·z), with lse = m + log Σ exp(z − m) for stability.
  let m = z.primal.maxAlongLastAxis()
  let lse = (z.primal - m).applying(.exp).sum(alongAxis: 1).applying(.log) + m
  let perExample = lse.reshaped([n]) - (q * z.primal).sum(toShape: [n, 1]).reshaped([n])
  let loss = perExample.mean()
  // dL = (1/N) Σ (s − q)·ż
  let tangent = z.value.tangent.map { ((s.primal - q) * $0).sum().affine(scale: 1 / S(n)) }
  return Variable.record(Dual(loss, tangent: tangent), inputs: [z]) { g, _ in
    [(s - Dual(q)) * g.affine(scale: 1 / S(n))]
  }
}

/// (1 − ε)·onehot + ε/C, shape [N, C].
func smoothedTargets<S: TensorScalar>(labels: [Int], classes c: Int, eps: S) -> Tensor<S> {
  Tensor(shape: [labels.count, c]) { q in
    q.initialize(repeating: eps / S(c))
    for (i, y) in labels.enumerated() {
      precondition(y >= 0 && y < c, "label \(y) outside 0..<\(c)")
      q[i * c + y] += 1 - eps
    }
  }
}

/// Mean squared error, L = (1/N) Σᵢ ½‖zᵢ − yᵢ‖²: the square loss of Cohen et al. (2021), whose
/// Gauss–Newton part is JᵀJ/N. `targets` has the logits' shape.
public func meanSquaredError<S>(_ z: Variable<S>, targets: Tensor<S>) -> Variable<S> {
  precondition(z.shape == targets.shape, "MSE: predictions \(z.shape) vs targets \(targets.shape)")
  let n = z.rank == 0 ? 1 : z.shape[0]
  return (z - Variable(constant: targets)).square().sum().affine(scale: 1 / S(2 * n))
}

/// The L2 penalty (λ/2)·Σ‖θ‖² over the given parameters.
public func l2Penalty<S>(_ params: [Variable<S>], coefficient lambda: Double) -> Variable<S>? {
  guard lambda != 0, let first = params.first else { return nil }
  var total = first.square().sum()
  for p in params.dropFirst() { total = total + p.square().sum() }
  return total.affine(scale: S(lambda / 2))
}

/// Fraction of rows whose largest logit is the label.
public func accuracy<S>(logits: Tensor<S>, labels: [Int]) -> Double {
  let predicted = logits.argmaxAlongLastAxis()
  precondition(predicted.count == labels.count, "accuracy: shapes differ")
  let correct = zip(predicted, labels).filter { $0 == $1 }.count
  return labels.isEmpty ? 0 : Double(correct) / Double(labels.count)
}
