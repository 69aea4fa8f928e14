/// A subword vocabulary learned by byte-pair encoding (Sennrich, Haddow & Birch 2016), shared by
/// the source and target languages as the paper's translation models share one word-piece
/// vocabulary.
///
/// Text is first split into words by `words(_:)` (lowercased letter runs, digit runs, and each
/// other non-space character alone). A word is a sequence of characters whose last one carries
/// the end-of-word mark `</w>`; learning starts from those characters and repeatedly merges the
/// most frequent adjacent pair of symbols (counted over word frequencies) into a new symbol,
/// until the vocabulary has `size` entries. Ties go to the pair whose merged string sorts first,
/// so the result does not depend on dictionary order. Encoding applies the learned merges to each
/// word in the order they were learned (lowest rank first), as the reference implementation does.
///
/// Ids 0–3 are `<pad>`, `<s>`, `</s>`, `<unk>`; a character never seen in training encodes as
/// `<unk>`. Decoding concatenates pieces and turns each end-of-word mark into a space.
public struct BytePairEncoding: Sendable {
  public static let pad = 0, begin = 1, end = 2, unknown = 3
  static let specials = ["<pad>", "<s>", "</s>", "<unk>"]
  static let endOfWord = "</w>"

  /// Every symbol by id.
  public let pieces: [String]
  let index: [String: Int]
  /// Merge rank of each learned pair (left id, right id) and the id it produces.
  let ranks: [Pair: (rank: Int, merged: Int)]

  struct Pair: Hashable { let left: Int, right: Int }

  public var count: Int { pieces.count }

  /// Learns a vocabulary of at most `size` symbols (fewer if no pair occurs twice) from `texts`.
  public init<C: Collection>(learningFrom texts: C, size: Int) where C.Element == String {
    precondition(size > Self.specials.count, "a BPE vocabulary needs more than the \(Self.specials.count) special symbols")
    var frequency: [String: Int] = [:]
    for t in texts { for w in Self.words(t) { frequency[w, default: 0] += 1 } }
    // Base symbols: every character, bare and as a word end, in sorted order.
    var base = Set<String>()
    for w in frequency.keys {
      for (i, c) in w.enumerated() { base.insert(i == w.count - 1 ? String(c) + Self.endOfWord : String(c)) }
    }
    var pieces = Self.specials + base.sorted()
    var index: [String: Int] = [:]
    for (i, p) in pieces.enumerated() { index[p] = i }
    // Words as symbol-id sequences with their counts, in a fixed (sorted) order.
    let sortedWords = frequency.keys.sorted()
    var symbols: [[Int]] = sortedWords.map { Self.characterSymbols($0).map { index[$0]! } }
    let counts = sortedWords.map { frequency[$0]! }
    var pairCounts: [Pair: Int] = [:]
    func tally(_ s: [Int], _ count: Int, _ sign: Int) {
      guard s.count > 1 else { return }
      for i in 0..<(s.count - 1) { pairCounts[Pair(left: s[i], right: s[i + 1]), default: 0] += sign * count }
    }
    for (s, c) in zip(symbols, counts) { tally(s, c, 1) }
    var ranks: [Pair: (rank: Int, merged: Int)] = [:]
    while pieces.count < size {
      var best: (pair: Pair, count: Int, text: String)?
      for (p, c) in pairCounts where c >= 2 {
        if let b = best, c < b.count { continue }
        let text = pieces[p.left] + pieces[p.right]
        if let b = best, c == b.count, text >= b.text { continue }
        best = (p, c, text)
      }
      guard let (pair, _, text) = best else { break }
      let merged = pieces.count
      pieces.append(text)
      index[text] = merged
      ranks[pair] = (ranks.count, merged)
      for k in symbols.indices where Self.contains(symbols[k], pair) {
        tally(symbols[k], counts[k], -1)
        symbols[k] = Self.merge(symbols[k], pair, into: merged)
        tally(symbols[k], counts[k], 1)
      }
      pairCounts[pair] = nil
    }
    self.pieces = pieces
    self.index = index
    self.ranks = ranks
  }

  /// Lowercased words: runs of letters, runs of digits, and every other non-space character
  /// alone ("And God said, Let" → and, god, said, ",", let). BLEU is computed on these words too.
  public static func words(_ text: String) -> [String] {
    var out: [String] = []
    var current = "", kind = 0  // 1 letters, 2 digits
    func flush() { if !current.isEmpty { out.append(current); current = "" }; kind = 0 }
    for ch in text.lowercased() {
      let k = ch.isLetter ? 1 : ch.isNumber ? 2 : 0
      if k == 0 {
        flush()
        if !ch.isWhitespace { out.append(String(ch)) }
      } else {
        if k != kind { flush() }
        kind = k
        current.append(ch)
      }
    }
    flush()
    return out
  }

  static func characterSymbols(_ word: String) -> [String] {
    let chars = Array(word)
    return chars.indices.map { i in i == chars.count - 1 ? String(chars[i]) + endOfWord : String(chars[i]) }
  }

  static func contains(_ s: [Int], _ p: Pair) -> Bool {
    guard s.count > 1 else { return false }
    for i in 0..<(s.count - 1) where s[i] == p.left && s[i + 1] == p.right { return true }
    return false
  }

  static func merge(_ s: [Int], _ p: Pair, into merged: Int) -> [Int] {
    var out: [Int] = []
    out.reserveCapacity(s.count)
    var i = 0
    while i < s.count {
      if i + 1 < s.count, s[i] == p.left, s[i + 1] == p.right { out.append(merged); i += 2 } else { out.append(s[i]); i += 1 }
    }
    return out
  }

  /// The ids of one word: its characters, then the learned merges by rank.
  public func encode(word: String) -> [Int] {
    var s = Self.characterSymbols(word).map { index[$0] ?? Self.unknown }
    while s.count > 1 {
      var best: (i: Int, rank: Int, merged: Int)?
      for i in 0..<(s.count - 1) {
        if let r = ranks[Pair(left: s[i], right: s[i + 1])], r.rank < (best?.rank ?? Int.max) { best = (i, r.rank, r.merged) }
      }
      guard let b = best else { break }
      s = Self.merge(s, Pair(left: s[b.i], right: s[b.i + 1]), into: b.merged)
    }
    return s
  }

  /// The ids of a text (words by `words(_:)`, each encoded; no begin or end symbol).
  public func encode(_ text: String) -> [Int] { Self.words(text).flatMap { encode(word: $0) } }

  /// The text of `ids`: pieces concatenated, word ends as spaces; special symbols are dropped
  /// except `<unk>`, which stays visible.
  public func decode(_ ids: [Int]) -> String {
    var out = ""
    for id in ids where id >= 0 && id < pieces.count && (id >= Self.specials.count || id == Self.unknown) {
      let p = pieces[id]
      if p.hasSuffix(Self.endOfWord) { out += p.dropLast(Self.endOfWord.count) + " " } else { out += p }
    }
    return out.hasSuffix(" ") ? String(out.dropLast()) : out
  }
}
