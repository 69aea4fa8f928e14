#if os(Linux)
/// glibc's `mallopt` (declared here: Glibc's module map does not export <malloc.h>).
@_silgen_name("mallopt") func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

/// glibc serves blocks above its mmap threshold (128 KiB, rising to at most 32 MiB) with fresh
/// mappings and trims freed memory at the heap top, so every activation-sized tensor would
/// start with page faults on zeroed pages. One forward/backward pass allocates and frees the
/// same sizes again and again, so keep them in the heap for reuse. Done once, on first use.
let heapTuned: Bool = {
  let mmapThreshold: Int32 = -3, trimThreshold: Int32 = -1  // M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
  _ = glibcMallopt(mmapThreshold, 1 << 30)
  _ = glibcMallopt(trimThreshold, 1 << 30)
  return true
}()
#else
let heapTuned = true
#endif

/// Heap storage of a tensor's scalars. Tensors share it until one of them mutates.
@usableFromInline
final class TensorStorage<Scalar: TensorScalar> {
  @usableFromInline let count: Int
  @usableFromInline let base: UnsafeMutablePointer<Scalar>
  /// The storage whose memory this one is a part of (nil: this one owns its memory).
  let owner: TensorStorage?

  @usableFromInline
  init(uninitializedCount count: Int) {
    _ = heapTuned
    self.count = count
    // 64-byte alignment keeps AVX-512 loads aligned for both us and OpenBLAS.
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: max(count, 1) * MemoryLayout<Scalar>.stride, alignment: 64)
    self.base = raw.bindMemory(to: Scalar.self, capacity: max(count, 1))
    self.owner = nil
  }

  /// `count` scalars of `owner`'s memory from `offset` on, kept alive by this storage.
  init(partOf owner: TensorStorage, offset: Int, count: Int) {
    precondition(offset >= 0 && offset + count <= owner.count, "storage part out of range")
    self.count = count
    self.base = owner.base + offset
    self.owner = owner
  }

  @inline(never) @usableFromInline
  func copy() -> TensorStorage {
    let s = TensorStorage(uninitializedCount: count)
    s.base.update(from: base, count: count)
    return s
  }

  deinit { if owner == nil { UnsafeMutableRawPointer(base).deallocate() } }
}

/// A dense, contiguous, row-major array of `Float` or `Double` with value semantics
/// (copy-on-write storage). All kernels run over unsafe buffers obtained once per op.
public struct Tensor<Scalar: TensorScalar>: @unchecked Sendable {
  public internal(set) var shape: [Int]
  @usableFromInline var storage: TensorStorage<Scalar>

  /// Number of scalars.
  @inlinable public var count: Int { storage.count }
  @inlinable public var rank: Int { shape.count }

  /// A tensor whose scalars are written by `initializer` (which must write all of them).
  public init(shape: [Int], initializer: (UnsafeMutableBufferPointer<Scalar>) -> Void) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
    self.shape = shape
    self.storage = TensorStorage(uninitializedCount: shape.reduce(1, *))
    initializer(UnsafeMutableBufferPointer(start: storage.base, count: storage.count))
  }

  /// A tensor over existing storage (which must hold exactly the shape's scalars).
  init(shape: [Int], storage: TensorStorage<Scalar>) {
    precondition(shape.reduce(1, *) == storage.count, "shape \(shape) over storage of \(storage.count) scalars")
    self.shape = shape
    self.storage = storage
  }

  /// A tensor whose scalars are not initialized: only for values that are never read (the
  /// primal of a cotangent nobody uses) or written whole afterwards. In unoptimized builds
  /// (the tests) it is filled with NaN, so that a value read by mistake shows in every result
  /// it reaches instead of passing unnoticed as leftover memory.
  public init(uninitializedShape shape: [Int]) {
    self.init(shape: shape) { if _isDebugAssertConfiguration() { fillKernel($0, .nan) } }
  }

  public init(repeating value: Scalar, shape: [Int]) {
    // Through a specialized kernel: `initialize(repeating:)` from unspecialized generic code
    // copies element by element through value witnesses.
    self.init(shape: shape) { fillKernel($0, value) }
  }

  public init(zeros shape: [Int]) { self.init(repeating: 0, shape: shape) }

  public init(shape: [Int], scalars: [Scalar]) {
    precondition(shape.reduce(1, *) == scalars.count,
                 "shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
    self.init(shape: shape) { buf in
      scalars.withUnsafeBufferPointer { src in _ = buf.initialize(from: src) }
    }
  }

  /// A rank-0 tensor.
  public init(scalar: Scalar) { self.init(shape: [], scalars: [scalar]) }

  /// Converts from another scalar type (Float ↔ Double).
  public init<Other: TensorScalar>(_ other: Tensor<Other>) {
    self.init(shape: other.shape) { dst in
      other.withUnsafeBufferPointer { src in
        for i in 0..<src.count { dst[i] = Scalar(src[i]) }
      }
    }
  }

  public var scalars: [Scalar] { withUnsafeBufferPointer { Array($0) } }

  /// The single scalar of a one-element tensor.
  public var scalar: Scalar {
    precondition(count == 1, "scalar of a tensor with shape \(shape)")
    return storage.base[0]
  }

  @inlinable
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R)
    rethrows -> R
  {
    try withExtendedLifetime(storage) {
      try body(UnsafeBufferPointer(start: storage.base, count: storage.count))
    }
  }

  @inlinable
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R
  ) rethrows -> R {
    if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    return try withExtendedLifetime(storage) {
      try body(UnsafeMutableBufferPointer(start: storage.base, count: storage.count))
    }
  }

  /// The same scalars under another shape (shares storage). One dimension may be -1.
  public func reshaped(_ newShape: [Int]) -> Tensor {
    var s = newShape
    if let hole = s.firstIndex(of: -1) {
      let known = s.enumerated().filter { $0.offset != hole }.map(\.element).reduce(1, *)
      precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
      s[hole] = count / known
    }
    precondition(s.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
    var t = self
    t.shape = s
    return t
  }

  /// Element at a multi-index (slow; for tests and small reads).
  public subscript(_ index: Int...) -> Scalar {
    get { storage.base[flatIndex(index)] }
    set {
      let i = flatIndex(index)
      withUnsafeMutableBufferPointer { $0[i] = newValue }
    }
  }

  func flatIndex(_ index: [Int]) -> Int {
    precondition(index.count == rank, "index \(index) for shape \(shape)")
    var flat = 0
    for (i, d) in zip(index, shape) {
      precondition(i >= 0 && i < d, "index \(index) out of range for shape \(shape)")
      flat = flat * d + i
    }
    return flat
  }
}

extension Tensor: CustomStringConvertible {
  public var description: String {
    let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
    return "Tensor\(shape)[\(shown)\(count > 8 ? ", …" : "")]"
  }
}

extension Tensor {
  /// Strides (in elements) of a row-major tensor of this shape.
  static func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
      strides[i] = s
      s *= shape[i]
    }
    return strides
  }
}

@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func fillKernel<S: TensorScalar>(_ p: UnsafeMutableBufferPointer<S>, _ value: S) {
  guard let base = p.baseAddress else { return }
  if value == 0 && value.sign == .plus { zeroFill(base, count: p.count); return }
  for i in 0..<p.count { base[i] = value }
}

/// Sets `count` scalars to +0 with one memset (+0 is all zero bits for Float and Double), far
/// faster than a scalar loop; also how GEMM outputs are cleared (see `gemmInto`).
@inlinable @inline(__always)
func zeroFill<S: TensorScalar>(_ p: UnsafeMutablePointer<S>, count: Int) {
  UnsafeMutableRawPointer(p).initializeMemory(as: UInt8.self, repeating: 0, count: count * MemoryLayout<S>.stride)
}
