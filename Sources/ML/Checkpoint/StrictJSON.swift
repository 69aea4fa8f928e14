/// A JSON value parsed strictly, for headers that come from untrusted files (safetensors).
///
/// Foundation's `JSONSerialization` keeps the last of two equal keys and turns `2.5` into an
/// integer 2 through `NSNumber.intValue`; the safetensors reference (serde) rejects both. This
/// parser keeps numbers as their source text so that the caller decides what an integer is,
/// rejects duplicate keys, and bounds nesting so that a hostile header cannot exhaust the stack.
public indirect enum StrictJSON: Equatable, Sendable {
  case object([(key: String, value: StrictJSON)])
  case array([StrictJSON])
  case string(String)
  /// The number's text as written (`12`, `-3`, `2.5e3`), validated against JSON's grammar.
  case number(String)
  case bool(Bool)
  case null

  public static func == (a: StrictJSON, b: StrictJSON) -> Bool {
    switch (a, b) {
    case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    case (.array(let x), .array(let y)): return x == y
    case (.string(let x), .string(let y)), (.number(let x), .number(let y)): return x == y
    case (.bool(let x), .bool(let y)): return x == y
    case (.null, .null): return true
    default: return false
    }
  }

  /// Why a text is not the JSON this parser accepts, with the byte offset.
  public struct ParseError: Error, CustomStringConvertible, Equatable {
    public var offset: Int
    public var reason: String
    public var description: String { "\(reason) at byte \(offset)" }
  }

  /// The deepest nesting accepted (safetensors headers nest three levels).
  public static let maximumDepth = 32

  /// Parses one JSON value from UTF-8 bytes; only whitespace may follow it.
  public static func parse(_ bytes: [UInt8]) throws -> StrictJSON {
    var p = Parser(bytes: bytes)
    p.skipWhitespace()
    let value = try p.value(depth: 0)
    p.skipWhitespace()
    guard p.at == bytes.count else { throw p.error("trailing characters after the JSON value") }
    return value
  }

  /// The value as a non-negative integer that fits `Int`, if it is written as one (`3`, not
  /// `3.0`, `-0` or `3e0`, as serde's `usize` requires).
  public var nonNegativeInteger: Int? {
    guard case .number(let text) = self, !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    return Int(text)
  }
}

private struct Parser {
  let bytes: [UInt8]
  var at = 0

  init(bytes: [UInt8]) { self.bytes = bytes }

  func error(_ reason: String) -> StrictJSON.ParseError { StrictJSON.ParseError(offset: at, reason: reason) }

  mutating func skipWhitespace() {
    while at < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[at]) { at += 1 }
  }

  mutating func expect(_ literal: String) throws {
    let l = Array(literal.utf8)
    guard at + l.count <= bytes.count, Array(bytes[at..<(at + l.count)]) == l else { throw error("expected '\(literal)'") }
    at += l.count
  }

  mutating func value(depth: Int) throws -> StrictJSON {
    guard depth < StrictJSON.maximumDepth else { throw error("nested deeper than \(StrictJSON.maximumDepth) levels") }
    guard at < bytes.count else { throw error("unexpected end of text") }
    switch bytes[at] {
    case UInt8(ascii: "{"): return try object(depth: depth)
    case UInt8(ascii: "["): return try array(depth: depth)
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): try expect("true"); return .bool(true)
    case UInt8(ascii: "f"): try expect("false"); return .bool(false)
    case UInt8(ascii: "n"): try expect("null"); return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
    default: throw error("unexpected character 0x\(String(bytes[at], radix: 16))")
    }
  }

  mutating func object(depth: Int) throws -> StrictJSON {
    at += 1
    var members: [(key: String, value: StrictJSON)] = []
    var keys = Set<String>()
    skipWhitespace()
    if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(members) }
    while true {
      skipWhitespace()
      guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw error("expected a string key") }
      let keyOffset = at
      let key = try string()
      guard keys.insert(key).inserted else {
        throw StrictJSON.ParseError(offset: keyOffset, reason: "duplicate key '\(key)'")
      }
      skipWhitespace()
      try expect(":")
      skipWhitespace()
      members.append((key, try value(depth: depth + 1)))
      skipWhitespace()
      guard at < bytes.count else { throw error("unterminated object") }
      if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
      if bytes[at] == UInt8(ascii: "}") { at += 1; return .object(members) }
      throw error("expected ',' or '}'")
    }
  }

  mutating func array(depth: Int) throws -> StrictJSON {
    at += 1
    var items: [StrictJSON] = []
    skipWhitespace()
    if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
    while true {
      skipWhitespace()
      items.append(try value(depth: depth + 1))
      skipWhitespace()
      guard at < bytes.count else { throw error("unterminated array") }
      if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
      if bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
      throw error("expected ',' or ']'")
    }
  }

  /// A string with JSON escapes; the raw bytes must be valid UTF-8 without control characters.
  mutating func string() throws -> String {
    at += 1
    var out: [UInt8] = []
    while true {
      guard at < bytes.count else { throw error("unterminated string") }
      let c = bytes[at]
      if c == UInt8(ascii: "\"") { at += 1; break }
      if c < 0x20 { throw error("control character in a string") }
      if c != UInt8(ascii: "\\") { out.append(c); at += 1; continue }
      at += 1
      guard at < bytes.count else { throw error("unterminated escape") }
      let e = bytes[at]
      at += 1
      switch e {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"):
        var scalar = try hex4()
        if (0xD800..<0xDC00).contains(scalar) {
          // A high surrogate must be followed by an escaped low surrogate.
          try expect("\\u")
          let low = try hex4()
          guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(scalar) {
          throw error("unpaired surrogate")
        }
        guard let u = Unicode.Scalar(scalar) else { throw error("invalid escape") }
        out.append(contentsOf: Array(String(Character(u)).utf8))
      default: throw error("invalid escape")
      }
    }
    guard let s = String(validating: out, as: UTF8.self) else { throw error("string is not valid UTF-8") }
    return s
  }

  mutating func hex4() throws -> UInt32 {
    guard at + 4 <= bytes.count else { throw error("short \\u escape") }
    var v: UInt32 = 0
    for b in bytes[at..<(at + 4)] {
      guard let d = hexDigit(b) else { throw error("bad \\u escape") }
      v = v << 4 | d
    }
    at += 4
    return v
  }

  func hexDigit(_ b: UInt8) -> UInt32? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
    default: return nil
    }
  }

  /// JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  mutating func number() throws -> String {
    let start = at
    func digit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
    if bytes[at] == UInt8(ascii: "-") { at += 1 }
    guard digit(at) else { throw error("bad number") }
    if bytes[at] == UInt8(ascii: "0") { at += 1 } else { while digit(at) { at += 1 } }
    if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
      at += 1
      guard digit(at) else { throw error("bad number") }
      while digit(at) { at += 1 }
    }
    if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
      at += 1
      if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
      guard digit(at) else { throw error("bad number") }
      while digit(at) { at += 1 }
    }
    return String(decoding: bytes[start..<at], as: UTF8.self)
  }
}
