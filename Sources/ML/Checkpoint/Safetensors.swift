import Foundation

/// Errors reading or writing checkpoints and batches. Each reads as one line naming the file.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
  case missingFile(String)
  case unreadable(String, reason: String)
  case corrupt(String, reason: String)
  /// A well-formed file whose content the model cannot take (no examples, a label out of range,
  /// a non-finite value): not called corrupt, since the file itself is fine.
  case invalidContent(String, reason: String)
  case unknownTensor(file: String, name: String, expected: [String])
  case missingTensor(file: String, name: String)
  case shapeMismatch(file: String, name: String, expected: [Int], found: [Int])
  case dtypeMismatch(file: String, name: String, expected: String, found: String)

  public var description: String {
    switch self {
    case .missingFile(let f): return "\(f): no such file"
    case .unreadable(let f, let r): return "\(f): cannot read (\(r))"
    case .corrupt(let f, let r): return "\(f): not a valid safetensors file (\(r))"
    case .invalidContent(let f, let r): return "\(f): \(r)"
    case .unknownTensor(let f, let n, let e):
      let list = e.count > 12 ? e.prefix(12).joined(separator: ", ") + ", …" : e.joined(separator: ", ")
      return "\(f): unknown parameter '\(n)' (expected names: \(list))"
    case .missingTensor(let f, let n): return "\(f): missing tensor '\(n)'"
    case .shapeMismatch(let f, let n, let e, let s): return "\(f): '\(n)' has shape \(s), expected \(e)"
    case .dtypeMismatch(let f, let n, let e, let s): return "\(f): '\(n)' has dtype \(s), expected \(e)"
    }
  }
}

/// One tensor of a safetensors file, kept as raw little-endian bytes with its dtype.
public struct SafetensorsEntry: Sendable, Equatable {
  public var dtype: String
  public var shape: [Int]
  public var data: Data

  /// The format's dtypes and their sizes in bytes.
  public static let elementSizes: [String: Int] = [
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E5M2": 1, "F8_E4M3": 1,
    "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
  ]

  /// The number of elements, checked against the bytes held (an entry built by hand may
  /// disagree with its shape; one from `Safetensors.parse` never does).
  func elementCount(file: String, name: String) throws -> Int {
    var n = 1
    for d in shape {
      let (p, overflow) = n.multipliedReportingOverflow(by: d)
      guard d >= 0, !overflow else { throw CheckpointError.corrupt(file, reason: "'\(name)' has shape \(shape)") }
      n = p
    }
    let (bytes, overflow) = n.multipliedReportingOverflow(by: Self.elementSizes[dtype] ?? 0)
    guard !overflow, bytes == data.count, Self.elementSizes[dtype] != nil else {
      throw CheckpointError.corrupt(file, reason: "'\(name)': \(data.count) bytes for shape \(shape) of \(dtype)")
    }
    return n
  }

  /// The values as floating point (F32, F64; integers are converted exactly where they fit).
  public func floats<S: TensorScalar>(file: String, name: String) throws -> Tensor<S> {
    let n = try elementCount(file: file, name: name)
    return try data.withUnsafeBytes { raw -> Tensor<S> in
      switch dtype {
      case "F32":
        return Tensor(shape: shape) { out in for i in 0..<n { out[i] = S(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))) } }
      case "F64":
        return Tensor(shape: shape) { out in for i in 0..<n { out[i] = S(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) } }
      default:
        throw CheckpointError.dtypeMismatch(file: file, name: name, expected: "F32 or F64", found: dtype)
      }
    }
  }

  /// The values as integers (I64, I32, U8).
  public func integers(file: String, name: String) throws -> [Int] {
    let n = try elementCount(file: file, name: name)
    return try data.withUnsafeBytes { raw -> [Int] in
      switch dtype {
      case "I64": return (0..<n).map { Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
      case "I32": return (0..<n).map { Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
      case "U8": return (0..<n).map { Int(raw[$0]) }
      default: throw CheckpointError.dtypeMismatch(file: file, name: name, expected: "I64, I32 or U8", found: dtype)
      }
    }
  }
}

/// The safetensors format (8-byte little-endian header length, a JSON header mapping names to
/// dtype, shape and data offsets, optional `__metadata__` of strings, then the data): the
/// format PyTorch, JAX and Hugging Face users read with `safetensors.numpy.load_file`.
public enum Safetensors {
  public static func read(path: String) throws -> (tensors: [String: SafetensorsEntry], metadata: [String: String]) {
    guard FileManager.default.fileExists(atPath: path) else { throw CheckpointError.missingFile(path) }
    // A device (/dev/zero) or a FIFO would be read without end: only regular files.
    do { try DataFile.requireRegular(path) } catch { throw CheckpointError.unreadable(path, reason: "not a regular file") }
    let bytes: Data
    do { bytes = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw CheckpointError.unreadable(path, reason: error.localizedDescription)
    }
    return try parse(bytes, file: path)
  }

  /// The largest header accepted, as the reference implementation's limit.
  public static let maximumHeaderBytes = 100_000_000

  /// Parses and validates a file's bytes as the format's reference (`safetensors` in Rust) does:
  /// a header of at most `maximumHeaderBytes` that is one JSON object (no duplicate keys), each
  /// tensor a known dtype, a shape of non-negative integers and two integer offsets; the tensors'
  /// byte ranges in offset order start at 0, follow each other without gap or overlap, hold
  /// exactly shape × dtype size bytes (checked arithmetic) and end where the file ends.
  /// `__metadata__`, if present, maps strings to strings. Nothing outside `bytes` is ever read.
  public static func parse(_ bytes: Data, file: String) throws -> (tensors: [String: SafetensorsEntry], metadata: [String: String]) {
    func corrupt(_ r: String) -> CheckpointError { .corrupt(file, reason: r) }
    let bytes = Data(bytes)  // zero-based indices even for a slice
    guard bytes.count >= 8 else { throw corrupt("file shorter than its 8-byte header length") }
    let headerLength = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | (UInt64($1.element) << (8 * UInt64($1.offset))) }
    guard headerLength <= UInt64(maximumHeaderBytes) else {
      throw corrupt("header length \(headerLength) exceeds the format's limit of \(maximumHeaderBytes) bytes")
    }
    guard headerLength <= UInt64(bytes.count - 8) else { throw corrupt("header length \(headerLength) exceeds the file size \(bytes.count)") }
    let dataStart = 8 + Int(headerLength)
    let header = [UInt8](bytes[8..<dataStart])
    guard header.first == UInt8(ascii: "{") else { throw corrupt("header does not start with '{'") }
    let json: StrictJSON
    do { json = try StrictJSON.parse(header) } catch {
      throw corrupt("header is not valid JSON (\(error))")
    }
    guard case .object(let members) = json else { throw corrupt("header is not a JSON object") }
    let dataSize = bytes.count - dataStart

    struct Info { var name: String, dtype: String, shape: [Int], begin: Int, end: Int, byteCount: Int }
    var infos: [Info] = []
    var metadata: [String: String] = [:]
    for (name, value) in members {
      if name == "__metadata__" {
        guard case .object(let m) = value else { throw corrupt("__metadata__ is not an object") }
        for (k, v) in m {
          guard case .string(let text) = v else { throw corrupt("__metadata__ value of '\(k)' is not a string") }
          metadata[k] = text
        }
        continue
      }
      guard case .object(let fields) = value else { throw corrupt("entry '\(name)' is not an object") }
      func field(_ key: String) -> StrictJSON? { fields.first { $0.key == key }?.value }
      guard case .string(let dtype)? = field("dtype"), case .array(let shapeItems)? = field("shape"),
            case .array(let offsetItems)? = field("data_offsets")
      else { throw corrupt("entry '\(name)' lacks dtype, shape or data_offsets") }
      guard let size = SafetensorsEntry.elementSizes[dtype] else { throw corrupt("entry '\(name)' has unknown dtype \(dtype)") }
      let shape = shapeItems.compactMap(\.nonNegativeInteger)
      guard shape.count == shapeItems.count else { throw corrupt("entry '\(name)' has a shape that is not a list of non-negative integers") }
      let offsets = offsetItems.compactMap(\.nonNegativeInteger)
      guard offsets.count == 2, offsetItems.count == 2 else { throw corrupt("entry '\(name)' has data_offsets that are not two non-negative integers") }
      var count = 1
      for d in shape {
        let (p, overflow) = count.multipliedReportingOverflow(by: d)
        guard !overflow else { throw corrupt("entry '\(name)': shape \(shape) overflows") }
        count = p
      }
      let (byteCount, overflow) = count.multipliedReportingOverflow(by: size)
      guard !overflow else { throw corrupt("entry '\(name)': shape \(shape) of \(dtype) overflows") }
      infos.append(Info(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1], byteCount: byteCount))
    }
    infos.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
    var expectedBegin = 0
    for info in infos {
      guard info.begin == expectedBegin, info.end >= info.begin else {
        throw corrupt("entry '\(info.name)' has data offsets [\(info.begin), \(info.end)], expected to start at \(expectedBegin) (tensors must follow each other without gap or overlap)")
      }
      guard info.end - info.begin == info.byteCount else {
        throw corrupt("entry '\(info.name)': \(info.end - info.begin) bytes for shape \(info.shape) of \(info.dtype) (\(info.byteCount) expected)")
      }
      expectedBegin = info.end
    }
    guard expectedBegin == dataSize else {
      throw corrupt(expectedBegin > dataSize
        ? "the tensors need \(expectedBegin) data bytes, the file holds \(dataSize) (truncated?)"
        : "\(dataSize - expectedBegin) bytes after the last tensor")
    }
    var tensors: [String: SafetensorsEntry] = [:]
    for info in infos {
      tensors[info.name] = SafetensorsEntry(dtype: info.dtype, shape: info.shape,
                                            data: bytes.subdata(in: (dataStart + info.begin)..<(dataStart + info.end)))
    }
    return (tensors, metadata)
  }

  /// Serializes tensors (in the given order) with optional string metadata.
  public static func serialize(_ entries: [(name: String, entry: SafetensorsEntry)], metadata: [String: String] = [:]) -> Data {
    var header = "{"
    var parts: [String] = []
    if !metadata.isEmpty {
      let m = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
      parts.append("\"__metadata__\":{\(m)}")
    }
    var offset = 0
    for (name, e) in entries {
      let shape = e.shape.map(String.init).joined(separator: ",")
      parts.append("\(jsonString(name)):{\"dtype\":\"\(e.dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + e.data.count)]}")
      offset += e.data.count
    }
    header += parts.joined(separator: ",") + "}"
    // Pad with spaces so the data starts 8-byte aligned, as the reference implementation does.
    while (header.utf8.count % 8) != 0 { header += " " }
    var out = Data()
    var n = UInt64(header.utf8.count).littleEndian
    withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
    out.append(contentsOf: Array(header.utf8))
    for (_, e) in entries { out.append(e.data) }
    return out
  }

  /// Writes atomically (temporary file, then rename).
  public static func write(_ entries: [(name: String, entry: SafetensorsEntry)], metadata: [String: String] = [:], to path: String) throws {
    do {
      try serialize(entries, metadata: metadata).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      throw CheckpointError.unreadable(path, reason: "cannot write: \(error.localizedDescription)")
    }
  }

  static func jsonString(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
      switch c {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      default:
        if c.value < 0x20 { out += String(format: "\\u%04x", c.value) } else { out.unicodeScalars.append(c) }
      }
    }
    return out + "\""
  }
}

extension SafetensorsEntry {
  public init<S: TensorScalar>(_ t: Tensor<S>) {
    dtype = S.safetensorsDType
    shape = t.shape
    // Little-endian hosts (x86-64, arm64) already hold the scalars in the file's byte order.
    precondition(UInt32(1).littleEndian == 1, "safetensors writing assumes a little-endian host")
    data = t.withUnsafeBufferPointer { Data(buffer: $0) }
  }

  public init(integers: [Int], shape: [Int]) {
    precondition(integers.count == shape.reduce(1, *), "integers do not fill shape \(shape)")
    dtype = "I64"
    self.shape = shape
    data = integers.map { Int64($0).littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) }
  }
}

extension Network {
  /// Saves parameters under their spec names (float32 for `Float`, float64 for `Double`).
  public func saveCheckpoint<S>(_ parameters: [Tensor<S>], to path: String, metadata: [String: String] = [:]) throws {
    precondition(parameters.count == parameterSpecs.count, "parameter count mismatch")
    try Safetensors.write(zip(parameterSpecs, parameters).map { ($0.name, SafetensorsEntry($1)) }, metadata: metadata, to: path)
  }

  /// Loads parameters by name, checking that every name is known, present, and of the right
  /// shape.
  public func loadCheckpoint<S>(from path: String) throws -> [Tensor<S>] {
    let (tensors, _) = try Safetensors.read(path: path)
    let names = parameterSpecs.map(\.name)
    if let unknown = tensors.keys.sorted().first(where: { !names.contains($0) }) {
      throw CheckpointError.unknownTensor(file: path, name: unknown, expected: names)
    }
    return try parameterSpecs.map { spec in
      guard let e = tensors[spec.name] else { throw CheckpointError.missingTensor(file: path, name: spec.name) }
      guard e.shape == spec.shape else {
        throw CheckpointError.shapeMismatch(file: path, name: spec.name, expected: spec.shape, found: e.shape)
      }
      let t: Tensor<S> = try e.floats(file: path, name: spec.name)
      guard t.isFinite else { throw CheckpointError.invalidContent(path, reason: "'\(spec.name)' holds NaN or infinity") }
      return t
    }
  }
}

/// What one example of a batch file looks like (`Batch.load(safetensors:example:classes:)`).
public enum BatchLayout: Sendable, Hashable {
  /// A feature vector [F] (x: [N, F]).
  case features(Int)
  /// An image [H, W, C] (x: [N, H, W, C], or flattened [N, H·W·C]).
  case image([Int])
  /// A token sequence of length T with one next-token label per position (x: [N, T] integer
  /// ids below `classes`; y: [N, T]).
  case tokens(Int)

  public var inputShape: [Int] {
    switch self {
    case .features(let f): return [f]
    case .image(let s): return s
    case .tokens(let t): return [t]
    }
  }
}

extension Batch {
  /// Loads a batch from a safetensors file holding `x` (float, [N, features]) and `y`
  /// (integer labels in 0..<classes, [N]).
  public static func load(safetensors path: String, features: Int, classes: Int) throws -> Batch {
    try load(safetensors: path, example: .features(features), classes: classes)
  }

  /// Loads a batch from a safetensors file holding `x` and `y` for `example`'s layout (labels
  /// in 0..<classes), naming the tensor and the shape expected in every error.
  public static func load(safetensors path: String, example: BatchLayout, classes: Int) throws -> Batch {
    let (tensors, _) = try Safetensors.read(path: path)
    guard let x = tensors["x"] else { throw CheckpointError.missingTensor(file: path, name: "x") }
    guard let y = tensors["y"] else { throw CheckpointError.missingTensor(file: path, name: "y") }
    let n = x.shape.first ?? 0
    let shape = example.inputShape
    var accepted = [[n] + shape]
    if case .image = example { accepted.append([n, shape.reduce(1, *)]) }
    guard x.shape.count >= 1, accepted.contains(x.shape) else {
      throw CheckpointError.shapeMismatch(file: path, name: "x", expected: [n] + shape, found: x.shape)
    }
    guard n > 0 else { throw CheckpointError.invalidContent(path, reason: "the batch holds no examples (x has shape \(x.shape))") }
    let labelShape: [Int]
    if case .tokens(let t) = example { labelShape = [n, t] } else { labelShape = [n] }
    guard y.shape == labelShape else {
      throw CheckpointError.shapeMismatch(file: path, name: "y", expected: labelShape, found: y.shape)
    }
    let labels = try y.integers(file: path, name: "y")
    if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
      throw CheckpointError.invalidContent(path, reason: "label \(bad) in y is outside 0..<\(classes)")
    }
    let inputs: Tensor<S>
    if case .tokens = example {
      // Token ids: integers below the vocabulary, stored as the model's scalars.
      guard ["I64", "I32", "U8"].contains(x.dtype) else {
        throw CheckpointError.dtypeMismatch(file: path, name: "x", expected: "I64 (token ids)", found: x.dtype)
      }
      let ids = try x.integers(file: path, name: "x")
      if let bad = ids.first(where: { $0 < 0 || $0 >= classes }) {
        throw CheckpointError.invalidContent(path, reason: "token id \(bad) in x is outside 0..<\(classes)")
      }
      inputs = Tensor(shape: [n] + shape, scalars: ids.map { S($0) })
    } else {
      let t: Tensor<S> = try x.floats(file: path, name: "x")
      inputs = t.reshaped([n] + shape)
    }
    guard inputs.isFinite else { throw CheckpointError.invalidContent(path, reason: "x holds NaN or infinity") }
    return Batch(inputs: inputs, labels: labels)
  }
}
