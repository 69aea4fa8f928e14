/// Loss, gradient and Hessian-vector products of a network's training loss at flat Float64
/// parameter vectors: what the data-driven initializations (MetaInit, GradInit) are written in.
/// The products run in the network's precision `S` (BatchNorm with batch statistics, dropout
/// off: `ForwardMode.curvature`, as the curvature measurements); the bookkeeping is Float64.
struct FlatProducts<S: TensorScalar> {
  let network: Network
  let shapes: [[Int]]
  let buffers: [Tensor<S>]

  init(network: Network, shapes: [[Int]]) {
    self.network = network
    self.shapes = shapes
    buffers = network.initialBuffers()
  }

  func tensors(_ x: [Double]) -> [Tensor<S>] { FlatVector.unflatten(x, shapes: shapes) }

  /// The loss and its gradient at θ on `batch`.
  func gradient(_ theta: [Double], _ batch: Batch<S>) -> (loss: Double, gradient: [Double]) {
    var b = buffers
    let r = network.lossAndGradient(parameters: tensors(theta), buffers: &b, batch: batch, mode: .curvature)
    return (Double(r.loss), FlatVector.flatten(r.gradient))
  }

  /// H(θ)·v on `batch`.
  func hvp(_ theta: [Double], _ batch: Batch<S>, _ v: [Double]) -> [Double] {
    let r = network.hessianVectorProduct(parameters: tensors(theta), buffers: buffers, batch: batch, direction: tensors(v), gradient: false)
    return FlatVector.flatten(r.hvp)
  }

  /// The training loss at θ (with the L2 penalty, as `gradient`).
  func loss(_ theta: [Double], _ batch: Batch<S>) -> Double { gradient(theta, batch).loss }

  /// The offset of each tensor in the flat vector.
  var ranges: [Range<Int>] {
    var start = 0
    return shapes.map { s in
      let n = s.reduce(1, *)
      defer { start += n }
      return start..<(start + n)
    }
  }

  static func dot<A: Collection<Double>, B: Collection<Double>>(_ a: A, _ b: B) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
  static func norm<A: Collection<Double>>(_ a: A) -> Double { a.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}
