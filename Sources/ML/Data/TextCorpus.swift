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

/// Aligned sentence pairs for translation (English → Spanish).
public struct TranslationPair: Sendable, Hashable {
  public var source: String
  public var target: String
}

public enum Translation {
  /// Pairs verses that share (book, chapter, verse) in both texts, keeping those whose both
  /// sides have at most `maxCharacters` characters.
  public static func align(_ english: [Verse], _ spanish: [Verse], maxCharacters: Int = 200) -> [TranslationPair] {
    struct Key: Hashable { let b: Int, c: Int, v: Int }
    var target: [Key: String] = [:]
    for v in spanish { target[Key(b: v.book, c: v.chapter, v: v.number)] = v.text }
    return english.compactMap { v in
      guard let t = target[Key(b: v.book, c: v.chapter, v: v.number)], !t.isEmpty, !v.text.isEmpty,
            v.text.count <= maxCharacters, t.count <= maxCharacters else { return nil }
      return TranslationPair(source: v.text, target: t)
    }
  }

  /// A deterministic held-out split: every `validationEvery`-th pair is held out.
  public static func split(_ pairs: [TranslationPair], validationEvery: Int = 20)
    -> (train: [TranslationPair], validation: [TranslationPair])
  {
    precondition(validationEvery >= 2, "validationEvery must be at least 2")
    var train: [TranslationPair] = [], validation: [TranslationPair] = []
    for (i, p) in pairs.enumerated() {
      if i % validationEvery == validationEvery - 1 { validation.append(p) } else { train.append(p) }
    }
    return (train, validation)
  }

  /// Corpus BLEU-4 (Papineni et al. 2002) on whitespace tokens: geometric mean of modified
  /// n-gram precisions for n = 1…4, times the brevity penalty; 0…100.
  public static func bleu(hypotheses: [String], references: [String]) -> Double {
    precondition(hypotheses.count == references.count, "BLEU: counts differ")
    var matches = [Int](repeating: 0, count: 4), totals = [Int](repeating: 0, count: 4)
    var hypLength = 0, refLength = 0
    for (h, r) in zip(hypotheses, references) {
      let ht = h.split(separator: " ").map(String.init), rt = r.split(separator: " ").map(String.init)
      hypLength += ht.count
      refLength += rt.count
      for n in 1...4 {
        let hg = ngrams(ht, n), rg = ngrams(rt, n)
        totals[n - 1] += max(ht.count - n + 1, 0)
        for (g, c) in hg { matches[n - 1] += min(c, rg[g] ?? 0) }
      }
    }
    guard hypLength > 0, matches.allSatisfy({ $0 > 0 }) else { return 0 }
    let logPrecision = (0..<4).map { log(Double(matches[$0]) / Double(totals[$0])) }.reduce(0, +) / 4
    let bp = hypLength >= refLength ? 1 : exp(1 - Double(refLength) / Double(hypLength))
    return 100 * bp * exp(logPrecision)
  }

  static func ngrams(_ tokens: [String], _ n: Int) -> [[String]: Int] {
    var out: [[String]: Int] = [:]
    if tokens.count >= n { for i in 0...(tokens.count - n) { out[Array(tokens[i..<(i + n)]), default: 0] += 1 } }
    return out
  }
}

import Foundation
