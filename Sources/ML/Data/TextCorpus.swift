/// A character vocabulary built from a corpus: the sorted set of characters that occur, so ids
/// are stable for the same text.
public struct CharacterVocabulary: Sendable, Hashable {
  public let characters: [Character]
  let index: [Character: Int]

  public init<S: Sequence>(texts: S) where S.Element == String {
    var set = Set<Character>()
    for t in texts { set.formUnion(t) }
    characters = set.sorted()
    var idx: [Character: Int] = [:]
    for (i, c) in characters.enumerated() { idx[c] = i }
    index = idx
  }

  public var count: Int { characters.count }

  /// Ids of the characters of `text`; characters outside the vocabulary are an error.
  public func encode(_ text: String) -> [Int]? {
    var out: [Int] = []
    out.reserveCapacity(text.count)
    for c in text {
      guard let i = index[c] else { return nil }
      out.append(i)
    }
    return out
  }

  public func decode(_ ids: [Int]) -> String { String(ids.map { characters[$0] }) }
}

/// Character-level language-model data from verses: each verse followed by a newline, the
/// training stream from the verses not held out, the validation stream from every
/// `validationEvery`-th verse (a deterministic split spread across the whole text).
public struct CharacterCorpus: Sendable {
  public let vocabulary: CharacterVocabulary
  public let train: [Int]
  public let validation: [Int]

  public init(verses: [String], validationEvery: Int = 20) {
    precondition(validationEvery >= 2, "validationEvery must be at least 2")
    let texts = verses.map { $0 + "\n" }
    vocabulary = CharacterVocabulary(texts: texts)
    var train: [Int] = [], validation: [Int] = []
    for (i, t) in texts.enumerated() {
      // Every character is in the vocabulary by construction.
      let ids = vocabulary.encode(t) ?? []
      if i % validationEvery == validationEvery - 1 { validation += ids } else { train += ids }
    }
    self.train = train
    self.validation = validation
  }

  /// `count` windows of `length + 1` tokens at seeded random offsets: inputs [count, length]
  /// (token ids as scalars) and next-token labels [count·length].
  public func windows<S: TensorScalar>(count: Int, length: Int, fromValidation: Bool = false, seed: UInt64) -> Dataset<S> {
    let stream = fromValidation ? validation : train
    precondition(stream.count > length + 1, "corpus shorter than one window")
    var rng = SplitMix64(seed: seed)
    var inputs: [S] = [], labels: [Int] = []
    inputs.reserveCapacity(count * length)
    labels.reserveCapacity(count * length)
    for _ in 0..<count {
      let start = Int(rng.next() % UInt64(stream.count - length - 1))
      for t in 0..<length {
        inputs.append(S(stream[start + t]))
        labels.append(stream[start + t + 1])
      }
    }
    return Dataset(inputs: Tensor(shape: [count, length], scalars: inputs), labels: labels, classes: vocabulary.count)
  }
}
