import Foundation

/// A run's identity: a readable label and a hash of its canonical configuration, so results
/// are files keyed by what produced them and a changed configuration never reuses stale data.
public struct RunKey: Sendable, Hashable, CustomStringConvertible {
  public let label: String
  public let hash: UInt64

  /// `label` should name the run for humans (model, η, warmup, seed); `configuration` is any
  /// Encodable value whose canonical JSON (sorted keys) is hashed.
  public init<C: Encodable>(label: String, configuration: C) throws {
    self.label = RunKey.sanitize(label)
    self.hash = RunKey.fnv1a(try RunKey.canonicalJSON(configuration))
  }

  /// `<label>-<16 hex digits>`: the run's directory name.
  public var description: String { "\(label)-\(String(format: "%016llx", hash))" }

  public static func canonicalJSON<C: Encodable>(_ value: C) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try encoder.encode(value)
  }

  /// FNV-1a, 64 bit: stable across runs, platforms and Swift versions (unlike `Hasher`).
  public static func fnv1a(_ data: Data) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in data {
      h ^= UInt64(byte)
      h = h &* 0x0000_0100_0000_01b3
    }
    return h
  }

  /// Keeps letters, digits, '.', '-', '_', '=' and '+'; everything else becomes '_'.
  static func sanitize(_ s: String) -> String {
    String(s.map { c -> Character in
      c.isASCII && (c.isLetter || c.isNumber || "._-=+".contains(c)) ? c : "_"
    })
  }
}
