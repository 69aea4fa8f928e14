import Synchronization

/// The switch of `Dual`'s stacked products.
public enum StackedProducts {
  static let enabled = Atomic<Bool>(true)

  /// Whether HVPs stack primal and tangent products (`repro bench --no-stacking` turns it off
  /// to compare; the results agree up to rounding).
  public static var isEnabled: Bool {
    get { enabled.load(ordering: .relaxed) }
    set { enabled.store(newValue, ordering: .relaxed) }
  }
}

/// Matrix products of a forward-over-reverse HVP done as one GEMM of twice the size where the
/// primal and the tangent lie stacked in memory (`Tensor.stackedPair`): made so by the element-
/// wise ops between products (tanh forward with its tangent: primal first; the tanh pullback:
/// tangent first), read here.
///
/// - Rows: op(A)·B and Ȧ·B share B, so [A; Ȧ]·B is one product of 2m rows, into a new stacked
///   pair (the tangent then gets A·Ḃ added). A cotangent pair [Ġ; G] times Wᵀ is the same case.
/// - Inner dimension: the weight gradient's tangent Ȧᵀ·G + Aᵀ·Ġ is [A; Ȧ]ᵀ·[Ġ; G], one product
///   with 2m inner terms, when the activation pair and the cotangent pair lie in opposite orders
///   (which is why forward pairs put the primal first and cotangent pairs the tangent).
///
/// Rows are stacked only where no `PrimalCache` serves the thread (a replay takes the primals
/// from the cache, so stacking would compute them again); the inner-dimension case forms a
/// tangent only and applies under a cache too. The results are those of separate products up
/// to rounding (the inner-dimension case adds its two halves in one accumulation).
extension Dual {
  /// Which of primal and tangent comes first when they lie stacked, nil when they do not.
  @usableFromInline
  var stackedPrimalFirst: Bool? {
    guard let t = tangent, StackedProducts.isEnabled else { return nil }
    if Tensor.areStacked(primal, t) { return true }
    if Tensor.areStacked(t, primal) { return false }
    return nil
  }

  /// op(A)·op(B) and its tangent with A's primal and tangent as one matrix of twice the rows,
  /// or nil where that does not apply (A transposed, B batched, A not stacked, a cache serving).
  @usableFromInline
  static func stackedRowsProduct(_ a: Dual, _ transposeA: Bool, _ b: Dual, _ transposeB: Bool) -> Dual? {
    guard !transposeA, b.primal.rank == 2, let primalFirst = a.stackedPrimalFirst, let at = a.tangent,
          PrimalCache<S>.current == nil else { return nil }
    let plan = Tensor.matmulPlan(a.primal, false, b.primal, transposeB)
    let lower = primalFirst ? a.primal : at
    var p: Tensor<S>, t: Tensor<S>
    do {
      let pair = withExtendedLifetime((a, b)) {
        Tensor<S>.stackedPair(shape: plan.shape) { first, _ in
          Tensor.gemm(first.baseAddress!, lower.baseAddress, false, b.primal.baseAddress, transposeB,
                      2 * plan.m, plan.n, plan.k, beta: 0)
        }
      }
      (p, t) = primalFirst ? (pair.first, pair.second) : (pair.second, pair.first)
    }
    if let bt = b.tangent { Tensor.matmul(a.primal, bt, transposeB: transposeB, addingTo: &t) }
    return Dual(p, tangent: t)
  }

  /// Ȧᵀ·B + Aᵀ·Ḃ as one product [A; Ȧ]ᵀ·[Ḃ; B] (or [Ȧ; A]ᵀ·[B; Ḃ]) with twice the inner
  /// dimension, or nil where that does not apply (not Aᵀ·B of matrices, pairs not stacked in
  /// opposite orders).
  @usableFromInline
  static func stackedInnerTangent(_ a: Dual, _ transposeA: Bool, _ b: Dual, _ transposeB: Bool) -> Tensor<S>? {
    guard transposeA, !transposeB, a.primal.rank == 2, b.primal.rank == 2,
          let aPrimalFirst = a.stackedPrimalFirst, let bPrimalFirst = b.stackedPrimalFirst,
          aPrimalFirst != bPrimalFirst, let at = a.tangent, let bt = b.tangent else { return nil }
    let rows = a.primal.shape[0], k = a.primal.shape[1], n = b.primal.shape[1]
    precondition(b.primal.shape[0] == rows, "matmul inner dimensions differ: \(a.shape)ᵀ · \(b.shape)")
    let lowerA = aPrimalFirst ? a.primal : at, lowerB = bPrimalFirst ? b.primal : bt
    return withExtendedLifetime((a, b)) {
      Tensor<S>(shape: [k, n]) { out in
        Tensor.gemm(out.baseAddress!, lowerA.baseAddress, true, lowerB.baseAddress, false, k, n, 2 * rows, beta: 0)
      }
    }
  }
}
