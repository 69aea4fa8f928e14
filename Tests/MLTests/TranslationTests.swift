import Foundation
import Testing
@testable import ML

@Suite("Translation: byte-pair vocabulary, corpus, greedy decoding")
struct TranslationTests {
  @Test func wordsAreLowercasedLetterAndDigitRunsWithPunctuationAlone() {
    #expect(BytePairEncoding.words("And God said, Let there be light: 3:16.") ==
            ["and", "god", "said", ",", "let", "there", "be", "light", ":", "3", ":", "16", "."])
    #expect(BytePairEncoding.words("EN el principio crió Dios") == ["en", "el", "principio", "crió", "dios"])
    #expect(BytePairEncoding.words("  ") == [])
  }

  /// Sennrich et al.'s example: "low" ×5, "lower" ×2, "newest" ×6, "widest" ×3. With the
  /// end-of-word mark on the last character the pair counts start at e s 9, s t</w> 9, w e 8,
  /// l o 7: the tie goes to the merged string that sorts first ("es" < "st</w>"), then
  /// "est</w>" (9), then "lo" (7); "newest" is then n e w est</w>, so n e, e w and w est</w> have
  /// 6 each and "ew" sorts first.
  @Test func learnsTheMostFrequentPairsFirst() {
    let texts = Array(repeating: "low", count: 5) + Array(repeating: "lower", count: 2)
      + Array(repeating: "newest", count: 6) + Array(repeating: "widest", count: 3)
    let base = Set(["low", "lower", "newest", "widest"].flatMap { BytePairEncoding.characterSymbols($0) }).count
    let bpe = BytePairEncoding(learningFrom: texts, size: 4 + base + 4)
    func pieces(_ w: String) -> [String] { bpe.encode(word: w).map { bpe.pieces[$0] } }
    #expect(Array(bpe.pieces.suffix(4)) == ["es", "est</w>", "lo", "ew"])
    #expect(pieces("newest") == ["n", "ew", "est</w>"])
    #expect(pieces("lowest") == ["lo", "w", "est</w>"])
    #expect(pieces("low") == ["lo", "w</w>"])
    // A character never seen is <unk>; decoding keeps it visible and restores word boundaries.
    #expect(pieces("lox") == ["lo", "<unk>"])
    #expect(bpe.decode(bpe.encode("lowest newest low")) == "lowest newest low")
    #expect(bpe.decode([BytePairEncoding.begin] + bpe.encode("low") + [BytePairEncoding.end, BytePairEncoding.pad]) == "low")
    // Learning stops when no pair occurs twice, whatever size is asked for.
    #expect(BytePairEncoding(learningFrom: ["ab"], size: 1000).count == 4 + 2)
  }

  @Test func learningIsDeterministicAndRoundTrips() {
    let texts = ["In the beginning God created the heaven and the earth.", "And the earth was without form, and void;",
                 "EN el principio crió Dios los cielos y la tierra.", "Y la tierra estaba desordenada y vacía,"]
    let a = BytePairEncoding(learningFrom: texts, size: 60), b = BytePairEncoding(learningFrom: texts.reversed(), size: 60)
    #expect(a.pieces == b.pieces)
    for t in texts { #expect(a.decode(a.encode(t)) == BytePairEncoding.words(t).joined(separator: " ")) }
  }

  static let pairs: [TranslationPair] = (0..<40).map { i in
    let n = ["one", "two", "three", "four"][i % 4]
    return TranslationPair(source: "the \(n) men went \(i % 3 == 0 ? "home" : "away").",
                           target: "los \(["uno", "dos", "tres", "cuatro"][i % 4]) hombres se fueron.")
  }

  @Test func corpusPacksSourceDecoderInputAndLabels() throws {
    let corpus = TranslationCorpus(pairs: Self.pairs, validationEvery: 10, vocabularySize: 60, length: 12)
    #expect(corpus.train.count == 36 && corpus.validation.count == 4)
    #expect(corpus.validation[0].reference == "los dos hombres se fueron .")
    let d: Dataset<Double> = corpus.dataset(corpus.train, count: 5)
    #expect(d.inputs.shape == [5, 12, 2] && d.labels.count == 5 * 12 && d.classes == corpus.vocabulary.count)
    let e = corpus.train[0]
    for t in 0..<12 {
      // Channel 0: the source then </s> then padding; channel 1: <s> then the target (the labels
      // shifted right, without the </s>); labels: the target then </s> then padding.
      let source = t < e.source.count ? e.source[t] : t == e.source.count ? BytePairEncoding.end : BytePairEncoding.pad
      let label = t < e.target.count ? e.target[t] : t == e.target.count ? BytePairEncoding.end : BytePairEncoding.pad
      let decoderInput = t == 0 ? BytePairEncoding.begin : t - 1 < e.target.count ? e.target[t - 1] : BytePairEncoding.pad
      #expect(Int(d.inputs[0, t, 0]) == source && d.labels[t] == label && Int(d.inputs[0, t, 1]) == decoderInput)
    }
    // Pairs longer than the length are left out.
    let short = TranslationCorpus(pairs: Self.pairs, validationEvery: 10, vocabularySize: 60, length: 4)
    #expect(short.train.isEmpty)
  }

  /// Greedy decoding is consistent with teacher forcing: feeding the decoded tokens back as the
  /// decoder input, the argmax at each position is the token emitted next, and decoding stops
  /// at the first </s> (or after T tokens).
  @Test func greedyDecodingAgreesWithTeacherForcing() {
    let t = 6, v = 7
    let config = Seq2SeqTransformer.Configuration(vocabulary: v, context: t, width: 8, encoderLayers: 1, decoderLayers: 1, heads: 2, mlpWidth: 16)
    let network = Network { Seq2SeqTransformer(config, registry: &$0) }
    for seed in 0..<4 as Range<UInt64> {
      let params: [Tensor<Double>] = network.initialParameters(seed: seed, scale: 3)
      let sources = [[4, 5, 6, 2, 0, 0], [6, 6, 2, 0, 0, 0], [5, 2, 0, 0, 0, 0]]
      let out = network.greedyTranslate(parameters: params, buffers: [], sources: sources, begin: 1, end: 2, pad: 0, chunk: 2)
      #expect(out.count == sources.count)
      for (s, o) in zip(sources, out) {
        #expect(o.count <= t && !o.contains(2))
        let decoderInput = [1] + o + [Int](repeating: 0, count: t - 1 - min(o.count, t - 1))
        let x: Tensor<Double> = Seq2SeqTransformer.pack(source: [s], target: [Array(decoderInput.prefix(t))])
        let logits = network.evaluate(parameters: params, buffers: [], batch: Batch(inputs: x, labels: [Int](repeating: 0, count: t))).logits
        let best = logits.argmaxAlongLastAxis()
        for (i, token) in o.enumerated() { #expect(best[i] == token) }
        if o.count < t { #expect(best[o.count] == 2) }
      }
    }
  }
}
