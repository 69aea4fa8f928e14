/// Aligned sentence pairs for translation (English → Spanish).
public struct TranslationPair: Sendable, Hashable {
  public var source: String
  public var target: String

  public init(source: String, target: String) { self.source = source; self.target = target }
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

/// Translation data for the encoder–decoder Transformer: pairs split into training and held-out
/// sets (`Translation.split`), one byte-pair vocabulary learned from both sides of the training
/// pairs only, and every pair that fits `length` tokens on both sides encoded.
///
/// A pair becomes one example of the [N, length, 2] input `Seq2SeqTransformer` reads: channel 0
/// the source pieces then `</s>`, channel 1 the decoder input `<s>` then the target pieces; its
/// `length` labels are the target pieces then `</s>`; all three padded with `<pad>`, which the
/// loss treats as an ordinary token (the model learns to emit padding after `</s>`).
public struct TranslationCorpus: Sendable {
  public struct Example: Sendable, Hashable {
    public var source: [Int]
    public var target: [Int]
    /// The target's words (`BytePairEncoding.words`), joined by spaces: the BLEU reference.
    public var reference: String
  }

  public let vocabulary: BytePairEncoding
  public let length: Int
  public let train: [Example]
  public let validation: [Example]

  public init(pairs: [TranslationPair], validationEvery: Int, vocabularySize: Int, length: Int) {
    precondition(length >= 2, "a translation example needs at least 2 positions")
    let (trainPairs, heldPairs) = Translation.split(pairs, validationEvery: validationEvery)
    vocabulary = BytePairEncoding(learningFrom: trainPairs.lazy.flatMap { [$0.source, $0.target] }, size: vocabularySize)
    self.length = length
    var cache: [String: [Int]] = [:]
    let bpe = vocabulary
    func encode(_ text: String) -> [Int] {
      BytePairEncoding.words(text).flatMap { w -> [Int] in
        if let ids = cache[w] { return ids }
        let ids = bpe.encode(word: w)
        cache[w] = ids
        return ids
      }
    }
    func examples(_ ps: [TranslationPair]) -> [Example] {
      ps.compactMap { p in
        let s = encode(p.source), t = encode(p.target)
        guard !s.isEmpty, !t.isEmpty, s.count < length, t.count < length else { return nil }
        return Example(source: s, target: t, reference: BytePairEncoding.words(p.target).joined(separator: " "))
      }
    }
    train = examples(trainPairs)
    validation = examples(heldPairs)
  }

  /// The source row of one example: its pieces, `</s>`, padding.
  public func sourceRow(_ e: Example) -> [Int] { padded(e.source + [BytePairEncoding.end]) }

  func padded(_ ids: [Int]) -> [Int] { ids + [Int](repeating: BytePairEncoding.pad, count: length - ids.count) }

  /// The first `count` examples of a split as a data set (`count` ≤ the split's size).
  public func dataset<S: TensorScalar>(_ examples: [Example], count: Int) -> Dataset<S> {
    precondition(count >= 1 && count <= examples.count, "asked for \(count) of \(examples.count) translation pairs")
    let chosen = examples.prefix(count)
    let inputs: Tensor<S> = Seq2SeqTransformer.pack(
      source: chosen.map(sourceRow), target: chosen.map { padded([BytePairEncoding.begin] + $0.target) })
    let labels = chosen.flatMap { padded($0.target + [BytePairEncoding.end]) }
    return Dataset(inputs: inputs, labels: labels, classes: vocabulary.count)
  }
}
