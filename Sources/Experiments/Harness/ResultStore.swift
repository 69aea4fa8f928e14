import Foundation

/// Errors of the results store and the command line: one line each.
public enum HarnessError: Error, CustomStringConvertible, Equatable {
  case unwritable(String, reason: String)
  case badShard(String)
  case unknownKey(String, valid: [String])
  case badValue(key: String, value: String, expected: String)
  case unknownExperiment(String, known: [String])
  case wouldShrink(path: String, existing: String, new: String)
  case nothingStored(experiment: String, scale: String, results: String)

  public var description: String {
    switch self {
    case .unwritable(let p, let r): return "cannot write \(p): \(r)"
    case .badShard(let s): return "bad shard '\(s)': expected i/n with 1 ≤ i ≤ n, e.g. 1/4"
    case .unknownKey(let k, let valid): return "unknown key '\(k)'; valid keys: \(valid.joined(separator: ", "))"
    case .badValue(let k, let v, let e): return "bad value '\(v)' for \(k): expected \(e)"
    case .unknownExperiment(let e, let known): return "unknown experiment '\(e)'; known: \(known.joined(separator: ", "))"
    case .wouldShrink(let p, let old, let new):
      return "\(p) holds \(old); this would replace it with \(new). Nothing was written: pass --force to replace it, or --out DIR to write elsewhere"
    case .nothingStored(let e, let scale, let results):
      return "no stored runs of \(e) at \(scale) scale under \(results) (was it run at another scale, e.g. --small?); nothing was written (--force draws the empty figure)"
    }
  }
}

/// Results as files: `<root>/<sweep>/<scale>/<run key>/` holds `config.json` (the resolved
/// configuration) and `result.json` (the metrics). Every file is written to a temporary name and
/// renamed, and `result.json` is written last, so a killed sweep leaves either a complete run
/// or none; a partial or corrupt entry is reported and re-run.
public struct ResultStore: Sendable {
  public let root: URL

  public init(root: String) { self.root = URL(fileURLWithPath: root) }

  public func directory(experiment: String, scale: String, key: RunKey) -> URL {
    root.appendingPathComponent(experiment).appendingPathComponent(scale).appendingPathComponent(key.description)
  }

  /// The stored result, or nil when absent. A present but undecodable result is reported
  /// through `warn` and treated as absent (so the run is redone).
  public func load<R: Decodable>(_ type: R.Type, experiment: String, scale: String, key: RunKey,
                                 warn: (String) -> Void = { _ in }) -> R? {
    let url = directory(experiment: experiment, scale: scale, key: key).appendingPathComponent("result.json")
    guard let data = try? Data(contentsOf: url) else { return nil }
    do {
      return try ResultCoding.decoder().decode(R.self, from: data)
    } catch {
      warn("warning: \(url.path) is corrupt or partial (\(error.localizedDescription)); re-running")
      return nil
    }
  }

  public func save<C: Encodable, R: Encodable>(config: C, result: R, experiment: String, scale: String, key: RunKey) throws {
    let dir = directory(experiment: experiment, scale: scale, key: key)
    do {
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    } catch {
      throw HarnessError.unwritable(dir.path, reason: error.localizedDescription)
    }
    let encoder = ResultCoding.encoder()
    try ResultStore.writeAtomically(try encoder.encode(config), to: dir.appendingPathComponent("config.json"))
    try ResultStore.writeAtomically(try encoder.encode(result), to: dir.appendingPathComponent("result.json"))
  }

  /// `<host>-<pid>-<16 random hex digits>`, safe in a file name.
  static func temporarySuffix() -> String {
    "\(host)-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
  }

  /// This machine's name (gethostname), letters, digits and '-' only.
  static let host: String = {
    var buffer = [CChar](repeating: 0, count: 256)
    let name = gethostname(&buffer, buffer.count) == 0 ? String(cString: buffer) : "host"
    return String(name.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "-" ? Character($0) : "_" }.prefix(64))
  }()

  /// Writes to `.<name>.tmp-<host>-<pid>-<random>` in the same directory, then renames over the
  /// target. The host and a random part keep the name unique across the nodes of a cluster and
  /// containers sharing one process id on a shared file system, and across threads.
  public static func writeAtomically(_ data: Data, to url: URL) throws {
    let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(temporarySuffix())")
    do {
      try data.write(to: tmp)
      if rename(tmp.path, url.path) != 0 {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: tmp)
        throw HarnessError.unwritable(url.path, reason: reason)
      }
    } catch let e as HarnessError {
      throw e
    } catch {
      throw HarnessError.unwritable(url.path, reason: error.localizedDescription)
    }
  }
}
