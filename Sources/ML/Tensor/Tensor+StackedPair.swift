/// Two tensors of one shape in one allocation, the second's scalars right after the first's,
/// so that a matrix product can read or write both as one matrix of twice the rows.
///
/// Why: a forward-over-reverse HVP multiplies a primal and its tangent by the same matrix (an
/// activation and its tangent by a weight, a cotangent and its tangent by the transposed
/// weight), and it sums two products that differ only in which factor carries the tangent (the
/// weight gradient's tangent Ȧᵀ·G + Aᵀ·Ġ). On two threads OpenBLAS runs one product of twice
/// the rows, or twice the inner dimension, nearer its peak than two products of a batch's size
/// (see `Dual`'s stacked products). Each tensor of a pair keeps the whole allocation alive, and
/// a copy-on-write copy of one takes only its own half.
extension Tensor {
  /// A pair whose scalars `fill` writes, all of them: the first tensor's, then the second's.
  static func stackedPair(
    shape: [Int], _ fill: (_ first: UnsafeMutableBufferPointer<Scalar>, _ second: UnsafeMutableBufferPointer<Scalar>) -> Void
  ) -> (first: Tensor, second: Tensor) {
    let n = shape.reduce(1, *)
    let whole = TensorStorage<Scalar>(uninitializedCount: 2 * n)
    fill(UnsafeMutableBufferPointer(start: whole.base, count: n), UnsafeMutableBufferPointer(start: whole.base + n, count: n))
    return (Tensor(shape: shape, storage: TensorStorage(partOf: whole, offset: 0, count: n)),
            Tensor(shape: shape, storage: TensorStorage(partOf: whole, offset: n, count: n)))
  }

  /// Whether `second`'s scalars follow `first`'s directly in memory, so that the two read as
  /// one matrix of twice the rows (whatever allocated them: adjacent live memory is enough).
  static func areStacked(_ first: Tensor, _ second: Tensor) -> Bool {
    first.count > 0 && first.count == second.count && first.storage.base + first.count == second.storage.base
  }

  /// The first scalar's address; the caller keeps the tensor alive while using it.
  var baseAddress: UnsafeMutablePointer<Scalar> { storage.base }
}
