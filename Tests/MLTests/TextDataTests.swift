import Foundation
import Testing
@testable import ML

@Suite("Text corpora")
struct TextDataTests {
  @Test func parsesBibleOutputFormats() throws {
    // A heading per chapter, verses indented, as `bible` prints; repeated 31 000 times to pass
    // the size check, over 66 books.
    var kjv = ""
    for b in 0..<66 { kjv += "\nBook\(b) 1\n\n"; for v in 1...471 { kjv += "  \(v) In the beginning \(b):\(v).\n" } }
    let verses = try Bible.parseKingJames(kjv, source: "fixture")
    #expect(verses.count == 66 * 471 && verses[0] == Verse(book: 0, chapter: 1, number: 1, text: "In the beginning 0:1."))
    #expect(verses.last?.book == 65)
    #expect(throws: DataError.self) { _ = try Bible.parseKingJames("Genesis 1\n  1 x\n", source: "short") }
    let rv = "Song of Solomon 2:3: Como el <H8598> manzano.\nRevelation of John 22:21: La gracia <G5547> sea.\n"
    #expect(Bible.stripTags("Como el <H8598> manzano <G1> x.") == "Como el manzano x.")
    #expect(throws: DataError.self) { _ = try Bible.parseReinaValera(rv, source: "short") }
  }

  @Test func characterCorpusAndWindows() {
    let corpus = CharacterCorpus(verses: ["abc", "bcd", "cde", "def"], validationEvery: 2)
    #expect(corpus.vocabulary.characters == ["\n", "a", "b", "c", "d", "e", "f"])
    #expect(corpus.vocabulary.decode(corpus.train) == "abc\ncde\n")
    #expect(corpus.vocabulary.decode(corpus.validation) == "bcd\ndef\n")
    let w: Dataset<Float> = corpus.windows(count: 3, length: 4, seed: 1)
    #expect(w.inputs.shape == [3, 4] && w.labels.count == 12 && w.labelsPerExample == 4)
    // Labels are the inputs shifted by one position.
    for i in 0..<3 { for t in 0..<3 { #expect(Int(w.inputs[i, t + 1]) == w.labels[i * 4 + t]) } }
    let b = w.batch([2, 0])
    #expect(b.labels == Array(w.labels[8..<12] + w.labels[0..<4]))
  }

  @Test func bleu() {
    expectClose(Translation.bleu(hypotheses: ["the cat sat on the mat"], references: ["the cat sat on the mat"]), 100, rtol: 1e-12)
    #expect(Translation.bleu(hypotheses: ["dog"], references: ["the cat sat on the mat"]) == 0)
    // Hand-computed: hyp "the cat sat on a mat" vs ref "the cat sat on the mat":
    // precisions 5/6, 3/5, 2/4, 1/3; equal lengths → BP = 1.
    let expected = 100 * Foundation.exp((Foundation.log(5.0 / 6) + Foundation.log(3.0 / 5) + Foundation.log(0.5) + Foundation.log(1.0 / 3)) / 4)
    expectClose(Translation.bleu(hypotheses: ["the cat sat on a mat"], references: ["the cat sat on the mat"]), expected, rtol: 1e-12)
  }

  static let haveBibles = FileManager.default.isExecutableFile(atPath: "/usr/bin/bible")
    && FileManager.default.isExecutableFile(atPath: "/usr/bin/diatheke")

  @Test(.enabled(if: haveBibles, "bible-kjv / diatheke + sword-text-sparv not installed"))
  func realBiblesAlign() throws {
    let cache = FileManager.default.temporaryDirectory.appendingPathComponent("repro-bible-\(getpid())").path
    let kjv = try Bible.kingJames(cacheDirectory: cache)
    let rv = try Bible.reinaValera(cacheDirectory: cache)
    #expect(kjv.first?.text == "In the beginning God created the heaven and the earth.")
    #expect(kjv.count > 31_000 && rv.count > 31_000)
    #expect(rv.first?.text.hasPrefix("EN el principio crió Dios") == true)
    #expect(!rv.contains { $0.text.contains("<") })
    let pairs = Translation.align(kjv, rv, maxCharacters: 120)
    #expect(pairs.count > 10_000)
    let (train, held) = Translation.split(pairs, validationEvery: 10)
    #expect(held.count == pairs.count / 10 && train.count + held.count == pairs.count)
    #expect(held.first == pairs[9] && train.first == pairs[0] && !train.contains(pairs[19]))
    #expect(pairs.contains { $0.source == "And God said, Let there be light: and there was light." && $0.target == "Y dijo Dios: Sea la luz: y fué la luz." })
    // The cache is reused.
    #expect(FileManager.default.fileExists(atPath: cache + "/kjv.txt"))
  }
}
