/// Concatenation and slicing along one axis: the two linear maps behind DenseNet's channel
/// concatenation. Each is the other's adjoint: slicing a concatenation gives back its parts,
/// and the adjoint of taking a slice is placing it among zeros.
///
/// With outer = Π shape[..<axis] and inner = Π shape[(axis+1)...], a tensor is `outer` blocks
/// of shape[axis]·inner contiguous scalars, so both ops are block copies.
extension Tensor {
  /// The parts laid side by side along `axis`; every other dimension must agree.
  public static func concatenated(_ parts: [Tensor], alongAxis axis: Int) -> Tensor {
    precondition(!parts.isEmpty, "concatenated: no parts")
    let first = parts[0].shape
    precondition(axis >= 0 && axis < first.count, "concatenated: axis \(axis) outside rank \(first.count)")
    for p in parts {
      precondition(p.rank == first.count
                   && p.shape.enumerated().allSatisfy { $0.offset == axis || $0.element == first[$0.offset] },
                   "concatenated along \(axis): shape \(p.shape) does not match \(first)")
    }
    let outer = first[..<axis].reduce(1, *), inner = first[(axis + 1)...].reduce(1, *)
    let total = parts.reduce(0) { $0 + $1.shape[axis] }
    var shape = first
    shape[axis] = total
    return Tensor(shape: shape) { out in
      var offset = 0
      for p in parts {
        let block = p.shape[axis] * inner
        p.withUnsafeBufferPointer { src in
          for o in 0..<outer {
            let dst = out.baseAddress! + o * total * inner + offset
            dst.initialize(from: src.baseAddress! + o * block, count: block)
          }
        }
        offset += block
      }
    }
  }

  /// Indices `range` of `axis`, every other dimension whole.
  public func sliced(alongAxis axis: Int, _ range: Range<Int>) -> Tensor {
    precondition(axis >= 0 && axis < rank, "sliced: axis \(axis) outside rank \(rank)")
    precondition(range.lowerBound >= 0 && range.upperBound <= shape[axis],
                 "sliced: range \(range) outside 0..<\(shape[axis]) of axis \(axis)")
    let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
    let width = shape[axis]
    var newShape = shape
    newShape[axis] = range.count
    let block = range.count * inner
    return Tensor(shape: newShape) { out in
      withUnsafeBufferPointer { src in
        for o in 0..<outer {
          (out.baseAddress! + o * block).initialize(
            from: src.baseAddress! + (o * width + range.lowerBound) * inner, count: block)
        }
      }
    }
  }
}
