extension Network {
  /// Greedy decoding with an encoder–decoder network (`Seq2SeqTransformer`): for each source
  /// row (already `</s>`-terminated and padded to the model's length T), the decoder input starts
  /// as `<s>` and grows by the most likely token at each position until every row has emitted
  /// `</s>` or T tokens. Each position is one full forward pass over [B, T, 2] (no key–value
  /// cache: T passes per chunk); the decoder is causal, so the padding after the current position
  /// does not change its prediction. Returns each row's tokens before `</s>`.
  public func greedyTranslate<S>(parameters: [Tensor<S>], buffers: [Tensor<S>], sources: [[Int]],
                                 begin: Int, end: Int, pad: Int, chunk: Int = 256) -> [[Int]] {
    guard let length = sources.first?.count else { return [] }
    precondition(sources.allSatisfy { $0.count == length }, "greedyTranslate: every source row must have length \(length)")
    var out: [[Int]] = []
    out.reserveCapacity(sources.count)
    for start in stride(from: 0, to: sources.count, by: chunk) {
      let rows = Array(sources[start..<min(start + chunk, sources.count)])
      var decoderInput = rows.map { _ in [begin] + [Int](repeating: pad, count: length - 1) }
      var emitted = rows.map { _ in [Int]() }
      var done = [Bool](repeating: false, count: rows.count)
      for t in 0..<length where done.contains(false) {
        let inputs: Tensor<S> = Seq2SeqTransformer.pack(source: rows, target: decoderInput)
        let batch = Batch(inputs: inputs, labels: [Int](repeating: 0, count: rows.count * length))
        let logits = evaluate(parameters: parameters, buffers: buffers, batch: batch).logits
        let best = logits.reshaped([rows.count * length, -1]).argmaxAlongLastAxis()
        for b in rows.indices where !done[b] {
          let token = best[b * length + t]
          if token == end { done[b] = true; continue }
          emitted[b].append(token)
          if t + 1 < length { decoderInput[b][t + 1] = token }
        }
      }
      out += emitted
    }
    return out
  }
}
