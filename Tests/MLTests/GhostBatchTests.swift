import Testing
@testable import ML

/// The measurement Hessian of a BatchNorm network over ghost batches is the Hessian of the
/// example-weighted mean of the ghost batches' losses, each normalized by its own statistics.
@Suite("Ghost-batch Hessian")
struct GhostBatchTests {
  func batch(_ n: Int, seed: UInt64) -> Batch<Double> {
    let x: Tensor<Double> = randomTensor([n, 6], seed: seed)
    return Batch(inputs: x, labels: (0..<n).map { ($0 * 7 + 3) % 4 })
  }

  func bnNetwork() -> Network {
    Network(build: {
      ResidualMLP(.init(inputs: 6, width: 5, hiddenWidth: 7, blocks: 2, classes: 4, normalization: .batchNorm), registry: &$0)
    })
  }

  @Test func rangesPartitionTheSet() {
    let net = bnNetwork()
    #expect(net.usesBatchStatistics)
    #expect(net.ghostBatchRanges(examples: 9, ghostBatch: 4) == [0..<4, 4..<9])  // a remainder of 1 < 4/2 joins
    #expect(net.ghostBatchRanges(examples: 10, ghostBatch: 4) == [0..<4, 4..<8, 8..<10])  // half a ghost batch stands
    #expect(net.ghostBatchRanges(examples: 11, ghostBatch: 4) == [0..<4, 4..<8, 8..<11])
    #expect(net.ghostBatchRanges(examples: 8, ghostBatch: 8) == [0..<8])
    #expect(net.ghostBatchRanges(examples: 8, ghostBatch: nil) == [0..<8])
    let plain = Network(build: { MLP(widths: [6, 5, 4], activation: .tanh, registry: &$0) })
    #expect(!plain.usesBatchStatistics && plain.ghostBatchRanges(examples: 10, ghostBatch: 4) == [0..<10])
  }

  @Test func operatorIsTheWeightedSumOfGhostBatchHessians() {
    let net = bnNetwork()
    let params: [Tensor<Double>] = net.initialParameters(seed: 5)
    let buffers: [Tensor<Double>] = net.initialBuffers()
    let b = batch(11, seed: 9)
    let v: [Tensor<Double>] = params.enumerated().map { randomTensor($0.element.shape, seed: 100 + UInt64($0.offset)) }
    let op = net.hessianOperator(parameters: params, buffers: buffers, batch: b, ghostBatch: 4)
    let got = op(FlatVector.flatten(v))
    var expected = [Double](repeating: 0, count: got.count)
    for r in [0..<4, 4..<8, 8..<11] {
      let h = net.hessianVectorProduct(parameters: params, buffers: buffers, batch: b.examples(r), direction: v).hvp
      for (i, x) in FlatVector.flatten(h).enumerated() { expected[i] += Double(r.count) / 11 * x }
    }
    for i in got.indices { expectClose(got[i], expected[i], rtol: 1e-10, atol: 1e-12, "ghost-batch HVP") }
    // The whole-set statistics are a different function: the products differ.
    let whole = net.hessianOperator(parameters: params, buffers: buffers, batch: b)(FlatVector.flatten(v))
    #expect(zip(whole, got).map { abs($0 - $1) }.max()! > 1e-6)
  }
}
