import Foundation

/// One verse, addressed by (book index in canonical order, chapter, verse).
public struct Verse: Sendable, Hashable {
  public var book: Int
  public var chapter: Int
  public var number: Int
  public var text: String
}

/// The two public-domain Bibles Debian ships, as text corpora: the King James Version
/// (`bible-kjv`, read with its `bible` command) and the Reina-Valera 1909 Spanish text
/// (`sword-text-sparv`, read with `diatheke`). Both list the 66 books in the same order, so
/// verses align by (book, chapter, verse). Extraction runs once and is cached as plain text.
public enum Bible {
  public static let books = [
    "Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua", "Judges", "Ruth", "I Samuel", "II Samuel",
    "I Kings", "II Kings", "I Chronicles", "II Chronicles", "Ezra", "Nehemiah", "Esther", "Job", "Psalms", "Proverbs",
    "Ecclesiastes", "Song of Solomon", "Isaiah", "Jeremiah", "Lamentations", "Ezekiel", "Daniel", "Hosea", "Joel", "Amos",
    "Obadiah", "Jonah", "Micah", "Nahum", "Habakkuk", "Zephaniah", "Haggai", "Zechariah", "Malachi", "Matthew", "Mark",
    "Luke", "John", "Acts", "Romans", "I Corinthians", "II Corinthians", "Galatians", "Ephesians", "Philippians",
    "Colossians", "I Thessalonians", "II Thessalonians", "I Timothy", "II Timothy", "Titus", "Philemon", "Hebrews",
    "James", "I Peter", "II Peter", "I John", "II John", "III John", "Jude", "Revelation of John",
  ]

  public static var defaultCacheDirectory: String {
    if let xdg = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/repro" }
    return NSHomeDirectory() + "/.cache/repro"
  }

  /// King James Version verses (about 31 100).
  public static func kingJames(cacheDirectory: String = defaultCacheDirectory) throws -> [Verse] {
    let text = try cached("kjv.txt", in: cacheDirectory) {
      try run("/usr/bin/bible", ["-l", "100000", "Genesis 1:1-Revelation 22:21"],
              hint: "install it with: apt-get install bible-kjv")
    }
    return try parseKingJames(text, source: cacheDirectory + "/kjv.txt")
  }

  /// Reina-Valera 1909 verses, Strong's tags removed.
  public static func reinaValera(cacheDirectory: String = defaultCacheDirectory) throws -> [Verse] {
    let text = try cached("rv1909.txt", in: cacheDirectory) {
      try run("/usr/bin/diatheke", ["-b", "spaRV1909eb", "-f", "plain", "-k", "Gen 1:1-Rev 22:21"],
              hint: "install it with: apt-get install diatheke sword-text-sparv")
    }
    return try parseReinaValera(text, source: cacheDirectory + "/rv1909.txt")
  }

  /// `bible` output: a heading line "Book C" per chapter, then "  V text" per verse.
  static func parseKingJames(_ text: String, source: String) throws -> [Verse] {
    var verses: [Verse] = []
    var book = -1, chapter = 0, lastBookName = ""
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
      if line.first == " " {
        let trimmed = line.drop { $0 == " " }
        guard let space = trimmed.firstIndex(of: " "), let n = Int(trimmed[..<space]), book >= 0 else { continue }
        verses.append(Verse(book: book, chapter: chapter, number: n, text: String(trimmed[trimmed.index(after: space)...])))
      } else if let space = line.lastIndex(of: " "), let c = Int(line[line.index(after: space)...]) {
        let name = String(line[..<space])
        if name != lastBookName { book += 1; lastBookName = name }
        chapter = c
      }
    }
    guard verses.count > 30_000, book == 65 else {
      throw DataError.corrupt(path: source, reason: "found \(verses.count) verses in \(book + 1) books; expected about 31 100 in 66")
    }
    return verses
  }

  /// `diatheke` output: "Book C:V: text" per verse, book names as in `books`.
  static func parseReinaValera(_ text: String, source: String) throws -> [Verse] {
    var verses: [Verse] = []
    var bookIndex: [String: Int] = [:]
    for (i, b) in books.enumerated() { bookIndex[b] = i }
    var currentBook = -1, lastName = ""
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
      // "Song of Solomon 2:3: text": the reference ends at the first ": " after a digit.
      guard let refEnd = line.range(of: ": ") else { continue }
      let ref = line[..<refEnd.lowerBound]
      guard let space = ref.lastIndex(of: " ") else { continue }
      let cv = ref[ref.index(after: space)...].split(separator: ":")
      guard cv.count == 2, let c = Int(cv[0]), let v = Int(cv[1]) else { continue }
      let name = String(ref[..<space])
      if name != lastName { currentBook = bookIndex[name] ?? (currentBook + 1); lastName = name }
      verses.append(Verse(book: currentBook, chapter: c, number: v, text: stripTags(String(line[refEnd.upperBound...]))))
    }
    guard verses.count > 30_000 else {
      throw DataError.corrupt(path: source, reason: "found \(verses.count) verses; expected about 31 100")
    }
    return verses
  }

  /// Removes Strong's numbers and markup (<G123>, <H123>, any <…>) and collapses spaces.
  static func stripTags(_ s: String) -> String {
    var out = "", inTag = false
    for ch in s {
      if ch == "<" { inTag = true } else if ch == ">" { inTag = false } else if !inTag { out.append(ch) }
    }
    return out.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
  }

  static func cached(_ name: String, in dir: String, produce: () throws -> String) throws -> String {
    let path = dir + "/" + name
    if let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty { return text }
    let text = try produce()
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    // Atomic: a killed extraction never leaves a partial cache.
    try? text.write(toFile: path, atomically: true, encoding: .utf8)
    return text
  }

  static func run(_ executable: String, _ arguments: [String], hint: String) throws -> String {
    guard FileManager.default.isExecutableFile(atPath: executable) else {
      throw DataError.missing(path: executable, hint: hint)
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
      throw DataError.corrupt(path: executable, reason: "exited with status \(p.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
  }
}
