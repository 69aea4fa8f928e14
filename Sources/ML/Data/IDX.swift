import CZlib
import Foundation

/// Errors reading data sets: each names the file and, where it helps, how to get it.
public enum DataError: Error, CustomStringConvertible, Equatable {
  case missing(path: String, hint: String)
  case corrupt(path: String, reason: String)
  /// A data set with fewer examples than a run asks for (`setting` names what to change).
  case tooSmall(source: String, has: Int, needs: Int, setting: String)

  public var description: String {
    switch self {
    case .missing(let p, let hint): return "\(p): not found (\(hint))"
    case .corrupt(let p, let r): return "\(p): corrupt or truncated (\(r))"
    case .tooSmall(let s, let has, let needs, let setting):
      return "\(s) has \(has) examples but the run needs \(needs) (\(setting)): use a complete data set or lower \(setting)"
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

  /// The largest data section read (Fashion-MNIST's training images are 47 MB).
  public static let maximumBytes = 1 << 31

  /// Reads a gzipped or plain IDX file of unsigned bytes. It reads the header first and then
  /// no more than the data it declares (plus one byte, to detect trailing data), so a hostile
  /// or endless input (a device, a FIFO, a gzip bomb) cannot make it read without bound.
  public static func read(path: String, hint: String = "") throws -> IDX.Array {
    guard FileManager.default.fileExists(atPath: path) else { throw DataError.missing(path: path, hint: hint) }
    try DataFile.requireRegular(path)
    guard let f = gzopen(path, "rb") else { throw DataError.corrupt(path: path, reason: "cannot open") }
    defer { gzclose(f) }
    var bytes = try read(f, upTo: 4, path: path)
    let dims = try headerDimensions(bytes, path: path)
    bytes += try read(f, upTo: 4 * dims, path: path)
    let (shape, count) = try header(bytes, dims: dims, path: path)
    bytes += try read(f, upTo: count + 1, path: path)
    return try parse(bytes, path: path, shape: shape, count: count)
  }

  public static func parse(_ data: [UInt8], path: String) throws -> IDX.Array {
    let dims = try headerDimensions(data, path: path)
    let (shape, count) = try header(data, dims: dims, path: path)
    return try parse(data, path: path, shape: shape, count: count)
  }

  /// The magic number's checks; the number of dimensions.
  static func headerDimensions(_ data: [UInt8], path: String) throws -> Int {
    guard data.count >= 4, data[0] == 0, data[1] == 0 else { throw DataError.corrupt(path: path, reason: "bad magic number") }
    guard data[2] == 0x08 else { throw DataError.corrupt(path: path, reason: "element type 0x\(String(data[2], radix: 16)) is not unsigned byte") }
    guard data[3] >= 1 else { throw DataError.corrupt(path: path, reason: "no dimensions") }
    return Int(data[3])
  }

  /// The shape and element count, with checked arithmetic.
  static func header(_ data: [UInt8], dims: Int, path: String) throws -> (shape: [Int], count: Int) {
    guard data.count >= 4 + 4 * dims else { throw DataError.corrupt(path: path, reason: "header shorter than its \(dims) dimensions") }
    func u32(_ o: Int) -> Int { Int(data[o]) << 24 | Int(data[o + 1]) << 16 | Int(data[o + 2]) << 8 | Int(data[o + 3]) }
    let shape = (0..<dims).map { u32(4 + 4 * $0) }
    var count = 1
    for d in shape {
      let (p, overflow) = count.multipliedReportingOverflow(by: d)
      guard !overflow, p <= maximumBytes else {
        throw DataError.corrupt(path: path, reason: "shape \(shape) declares more than \(maximumBytes) bytes")
      }
      count = p
    }
    return (shape, count)
  }

  static func parse(_ data: [UInt8], path: String, shape: [Int], count: Int) throws -> IDX.Array {
    let start = 4 + 4 * shape.count
    guard data.count - start == count else {
      throw DataError.corrupt(path: path, reason: "\(data.count - start)\(data.count - start > count ? " or more" : "") data bytes for shape \(shape) (\(count) expected)")
    }
    return IDX.Array(shape: shape, bytes: Swift.Array(data[start...]))
  }

  /// Up to `n` bytes of the (possibly gzipped) stream; fewer only at its end.
  static func read(_ f: gzFile, upTo n: Int, path: String) throws -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(Swift.min(n, 1 << 26))
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while out.count < n {
      let want = Swift.min(chunk.count, n - out.count)
      let got = chunk.withUnsafeMutableBytes { gzread(f, $0.baseAddress, UInt32(want)) }
      if got < 0 { throw DataError.corrupt(path: path, reason: "gzip stream error") }
      if got == 0 { break }
      out.append(contentsOf: chunk[0..<Int(got)])
    }
    // A truncated gzip stream reads as a short file with an error flag: check it.
    var errnum: Int32 = 0
    _ = gzerror(f, &errnum)
    if errnum != Z_OK && errnum != Z_STREAM_END { throw DataError.corrupt(path: path, reason: "gzip stream error \(errnum)") }
    return out
  }
}

/// Checks shared by the data readers.
public enum DataFile {
  /// Refuses anything but a regular file (after following links): a directory, a device such
  /// as /dev/zero, a FIFO or a socket would be read without end or block.
  public static func requireRegular(_ path: String) throws {
    var st = stat()
    guard stat(path, &st) == 0 else { throw DataError.corrupt(path: path, reason: "cannot stat (\(String(cString: strerror(errno))))") }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw DataError.corrupt(path: path, reason: "not a regular file") }
  }
}
