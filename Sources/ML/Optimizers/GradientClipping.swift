/// The global L2 norm ‖(g₁, …, gₖ)‖ of a list of gradients, accumulated in Double.
public func globalNorm<S>(_ tensors: [Tensor<S>]) -> Double {
  tensors.reduce(0.0) { $0 + $1.dot($1) }.squareRoot()
}

/// Rescales the gradients so their global norm is at most `maxNorm` (Pascanu et al. 2013).
/// Returns the norm before clipping and whether it was clipped.
@discardableResult
public func clipByGlobalNorm<S>(_ gradients: inout [Tensor<S>], maxNorm: Double) -> (norm: Double, clipped: Bool) {
  precondition(maxNorm > 0, "clip norm must be positive")
  let norm = globalNorm(gradients)
  guard norm > maxNorm, norm.isFinite else { return (norm, false) }
  let scale = S(maxNorm / norm)
  for k in gradients.indices { gradients[k] = gradients[k].affine(scale: scale) }
  return (norm, true)
}
