/// NumPy broadcasting (shapes aligned on the right; a dimension of 1 repeats), planned once per
/// op: adjacent dimensions that move together are merged so the common cases (same shape, a
/// bias row, a per-row scalar) run as one or two flat loops.
@usableFromInline
struct BroadcastPlan {
  /// Merged iteration shape (at least one dimension).
  @usableFromInline var dims: [Int]
  /// Strides of each operand over `dims` (0 where it repeats).
  @usableFromInline var aStrides: [Int]
  @usableFromInline var bStrides: [Int]
  /// The un-merged result shape.
  @usableFromInline var resultShape: [Int]

  static func resultShape(_ a: [Int], _ b: [Int]) -> [Int] {
    let r = max(a.count, b.count)
    let pa = [Int](repeating: 1, count: r - a.count) + a
    let pb = [Int](repeating: 1, count: r - b.count) + b
    return (0..<r).map { i in
      precondition(pa[i] == pb[i] || pa[i] == 1 || pb[i] == 1,
                   "shapes \(a) and \(b) do not broadcast")
      return pa[i] == 1 ? pb[i] : pa[i]
    }
  }

  /// Strides of an operand of `shape` read over `result` (0 on broadcast dimensions).
  static func strides(of shape: [Int], over result: [Int]) -> [Int] {
    let padded = [Int](repeating: 1, count: result.count - shape.count) + shape
    let rowMajor = Tensor<Float>.rowMajorStrides(padded)
    return (0..<result.count).map { padded[$0] == 1 && result[$0] != 1 ? 0 : rowMajor[$0] }
  }

  init(_ a: [Int], _ b: [Int]) {
    let result = BroadcastPlan.resultShape(a, b)
    self.init(result: result, a: BroadcastPlan.strides(of: a, over: result),
              b: BroadcastPlan.strides(of: b, over: result))
  }

  init(result: [Int], a: [Int], b: [Int]) {
    resultShape = result
    var dims: [Int] = [], sa: [Int] = [], sb: [Int] = []
    for i in 0..<result.count where result[i] != 1 {
      if let last = dims.indices.last,
         sa[last] == a[i] * result[i], sb[last] == b[i] * result[i]
      {
        dims[last] *= result[i]
        sa[last] = a[i]
        sb[last] = b[i]
      } else {
        dims.append(result[i]); sa.append(a[i]); sb.append(b[i])
      }
    }
    if dims.isEmpty { dims = [1]; sa = [0]; sb = [0] }
    self.dims = dims
    aStrides = sa
    bStrides = sb
  }

  /// Calls `body(aOffset, bOffset, outOffset, innerCount, aInnerStride, bInnerStride)` for each
  /// run of the innermost merged dimension.
  @inlinable @inline(__always)
  func forEachRun(_ body: (Int, Int, Int, Int, Int, Int) -> Void) {
    let r = dims.count
    let n = dims[r - 1], ia = aStrides[r - 1], ib = bStrides[r - 1]
    if r == 1 { body(0, 0, 0, n, ia, ib); return }
    var counter = [Int](repeating: 0, count: r - 1)
    var oa = 0, ob = 0, out = 0
    let outer = dims[..<(r - 1)].reduce(1, *)
    for _ in 0..<outer {
      body(oa, ob, out, n, ia, ib)
      out += n
      var d = r - 2
      while d >= 0 {
        counter[d] += 1
        oa += aStrides[d]
        ob += bStrides[d]
        if counter[d] < dims[d] { break }
        oa -= aStrides[d] * dims[d]
        ob -= bStrides[d] * dims[d]
        counter[d] = 0
        d -= 1
      }
    }
  }
}
