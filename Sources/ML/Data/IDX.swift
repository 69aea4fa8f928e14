import CZlib
import Foundation

/// Errors reading data sets: each names the file and, where it helps, how to get it.
public enum DataError: Error, CustomStringConvertible, Equatable {
  case missing(path: String, hint: String)
  case corrupt(path: String, reason: String)

  public var description: String {
    switch self {
    case .missing(let p, let hint): return "\(p): not found (\(hint))"
    case .corrupt(let p, let r): return "\(p): corrupt or truncated (\(r))"
    }
  }
}

/// The IDX format of MNIST and Fashion-MNIST (LeCun et al.), optionally gzipped: a big-endian
/// magic 0x000008TD (T = 0x08 for unsigned bytes, D = number of dimensions), D big-endian u32
/// dimensions, then the data.
public enum IDX {
  public struct Array: Sendable {
    public var shape: [Int]
    public var bytes: [UInt8]
  }

  /// Reads a gzipped or plain IDX file of unsigned bytes.
  public static func read(path: String, hint: String = "") throws -> IDX.Array {
    guard FileManager.default.fileExists(atPath: path) else { throw DataError.missing(path: path, hint: hint) }
    let data = try inflate(path: path)
    return try parse(data, path: path)
  }

  public static func parse(_ data: [UInt8], path: String) throws -> IDX.Array {
    func u32(_ o: Int) -> Int { Int(data[o]) << 24 | Int(data[o + 1]) << 16 | Int(data[o + 2]) << 8 | Int(data[o + 3]) }
    guard data.count >= 4, data[0] == 0, data[1] == 0 else { throw DataError.corrupt(path: path, reason: "bad magic number") }
    guard data[2] == 0x08 else { throw DataError.corrupt(path: path, reason: "element type 0x\(String(data[2], radix: 16)) is not unsigned byte") }
    let dims = Int(data[3])
    guard dims >= 1, data.count >= 4 + 4 * dims else { throw DataError.corrupt(path: path, reason: "header shorter than its \(dims) dimensions") }
    let shape = (0..<dims).map { u32(4 + 4 * $0) }
    let count = shape.reduce(1, *)
    let start = 4 + 4 * dims
    guard data.count - start == count else {
      throw DataError.corrupt(path: path, reason: "\(data.count - start) data bytes for shape \(shape) (\(count) expected)")
    }
    return IDX.Array(shape: shape, bytes: Swift.Array(data[start...]))
  }

  /// The file's bytes, gunzipped if it is gzip (zlib's gzread reads plain files unchanged).
  static func inflate(path: String) throws -> [UInt8] {
    guard let f = gzopen(path, "rb") else { throw DataError.corrupt(path: path, reason: "cannot open") }
    defer { gzclose(f) }
    var out = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let n = chunk.withUnsafeMutableBytes { gzread(f, $0.baseAddress, UInt32($0.count)) }
      if n < 0 { throw DataError.corrupt(path: path, reason: "gzip stream error") }
      if n == 0 { break }
      out.append(contentsOf: chunk[0..<Int(n)])
    }
    // A truncated gzip stream reads as a short file with an error flag: check it.
    var errnum: Int32 = 0
    _ = gzerror(f, &errnum)
    if errnum != Z_OK && errnum != Z_STREAM_END { throw DataError.corrupt(path: path, reason: "gzip stream error \(errnum)") }
    return out
  }
}
