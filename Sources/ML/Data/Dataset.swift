/// Examples in memory: inputs [N, …] and integer labels, one per example or a fixed number per
/// example (a language model's next-token targets).
public struct Dataset<S: TensorScalar>: Sendable {
  public var inputs: Tensor<S>
  public var labels: [Int]
  public var classes: Int

  public init(inputs: Tensor<S>, labels: [Int], classes: Int) {
    precondition(inputs.rank >= 1 && inputs.shape[0] > 0 && labels.count % inputs.shape[0] == 0,
                 "dataset: \(labels.count) labels for inputs \(inputs.shape)")
    precondition(labels.allSatisfy { $0 >= 0 && $0 < classes }, "dataset: label outside 0..<\(classes)")
    self.inputs = inputs
    self.labels = labels
    self.classes = classes
  }

  public var count: Int { inputs.shape[0] }
  public var labelsPerExample: Int { labels.count / count }
  public var exampleShape: [Int] { Array(inputs.shape.dropFirst()) }

  /// The examples at `indices`, in that order.
  public func batch(_ indices: [Int]) -> Batch<S> {
    let stride = inputs.count / Swift.max(count, 1)
    let x = Tensor<S>(shape: [indices.count] + exampleShape) { out in
      inputs.withUnsafeBufferPointer { src in
        for (row, i) in indices.enumerated() {
          precondition(i >= 0 && i < count, "example index \(i) out of range")
          (out.baseAddress! + row * stride).update(from: src.baseAddress! + i * stride, count: stride)
        }
      }
    }
    let k = labelsPerExample
    return Batch(inputs: x, labels: indices.flatMap { labels[($0 * k)..<(($0 + 1) * k)] })
  }

  /// The first `n` examples (a fixed measurement or evaluation set).
  public func prefix(_ n: Int) -> Batch<S> { batch(Array(0..<Swift.min(n, count))) }
}

/// Minibatches in a seeded random order, reshuffled every epoch; the last partial batch of an
/// epoch is dropped so every step sees the same batch size.
public struct BatchSampler: Sendable {
  public let datasetSize: Int
  public let batchSize: Int
  private var rng: SplitMix64
  private var order: [Int] = []
  private var position = 0
  public private(set) var epoch = 0

  public init(datasetSize: Int, batchSize: Int, seed: UInt64) {
    precondition(batchSize >= 1 && batchSize <= datasetSize, "batch size \(batchSize) for \(datasetSize) examples")
    self.datasetSize = datasetSize
    self.batchSize = batchSize
    rng = SplitMix64(seed: seed)
  }

  public mutating func next() -> [Int] {
    if order.isEmpty || position + batchSize > datasetSize {
      if !order.isEmpty { epoch += 1 }
      order = Array(0..<datasetSize)
      // Fisher–Yates with our generator (the standard library's shuffle is not specified to be
      // stable across versions).
      for i in stride(from: datasetSize - 1, to: 0, by: -1) {
        let j = Int(rng.next() % UInt64(i + 1))
        order.swapAt(i, j)
      }
      position = 0
    }
    defer { position += batchSize }
    return Array(order[position..<(position + batchSize)])
  }
}
