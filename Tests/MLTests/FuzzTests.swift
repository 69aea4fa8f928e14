import Foundation
import Testing
@testable import ML

/// Seeded mutations of valid inputs to every reader of untrusted bytes. Each input must give
/// either a clean error of the reader's type or a result that keeps the reader's promises; a
/// trap (overflow, out-of-bounds read, allocation of 2⁶⁴ bytes) fails the whole test run.
@Suite("Fuzz: safetensors, strict JSON, IDX, CIFAR-10 records, model specs")
struct FuzzTests {
  /// Inputs per reader (about 10 000 in all, a few seconds in a debug build).
  static let inputsPerReader = 2_500

  /// Byte-level mutations: flips, boundary bytes, insertions, deletions, truncations,
  /// duplicated and swapped slices, and numbers in the text replaced by extreme ones.
  struct Mutator {
    var rng: SplitMix64
    static let interesting: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                                       UInt8(ascii: ","), UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "}"),
                                       UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "e"), UInt8(ascii: "\\")]
    static let numbers = ["0", "-1", "1.5", "2.0", "1e3", "4294967296", "2305843009213693952", "4611686018427387904",
                          "9223372036854775807", "9223372036854775808", "18446744073709551615", "99999999999999999999999"]

    mutating func mutate(_ input: [UInt8]) -> [UInt8] {
      var b = input
      for _ in 0..<Int.random(in: 1...4, using: &rng) {
        let at = b.isEmpty ? 0 : Int.random(in: 0..<b.count, using: &rng)
        switch Int.random(in: 0..<9, using: &rng) {
        case 0: if !b.isEmpty { b[at] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng) }
        case 1: if !b.isEmpty { b[at] = Self.interesting.randomElement(using: &rng)! }
        case 2: b.insert(Self.interesting.randomElement(using: &rng)!, at: at)
        case 3: if !b.isEmpty { b.remove(at: at) }
        case 4: b = Array(b.prefix(at))
        case 5:
          let n = Int.random(in: 1...16, using: &rng)
          b.insert(contentsOf: b[at..<min(b.count, at + n)], at: at)
        case 6: replaceNumber(&b)
        case 7: if !b.isEmpty { b[at] = UInt8.random(in: 0...255, using: &rng) }
        default:
          // The 8-byte length prefix of safetensors, set to a value near the true one.
          if b.count >= 8 {
            let delta = Int.random(in: -3...3, using: &rng)
            let len = Int(b[0]) | Int(b[1]) << 8
            let new = max(0, len + delta)
            b[0] = UInt8(new & 255); b[1] = UInt8((new >> 8) & 255)
          }
        }
      }
      return b
    }

    /// Replaces one run of digits with an extreme or malformed number.
    mutating func replaceNumber(_ b: inout [UInt8]) {
      let digits = b.indices.filter { b[$0] >= 0x30 && b[$0] <= 0x39 && ($0 == 0 || !(b[$0 - 1] >= 0x30 && b[$0 - 1] <= 0x39)) }
      guard let start = digits.randomElement(using: &rng) else { return }
      var end = start
      while end < b.count, b[end] >= 0x30 && b[end] <= 0x39 { end += 1 }
      b.replaceSubrange(start..<end, with: Array(Self.numbers.randomElement(using: &rng)!.utf8))
    }
  }

  func validSafetensors() -> [UInt8] {
    let w = Tensor<Float>(shape: [3, 2], scalars: [1, -2, 3.5, 0, 1e-3, 7])
    let entries: [(name: String, entry: SafetensorsEntry)] = [
      ("layers.0.weight", SafetensorsEntry(w)), ("layers.0.bias", SafetensorsEntry(Tensor<Float>(shape: [2], scalars: [0.5, -0.5]))),
      ("y", SafetensorsEntry(integers: [0, 1, 1], shape: [3])),
    ]
    return [UInt8](Safetensors.serialize(entries, metadata: ["format": "pt", "step": "10"]))
  }

  @Test("mutated safetensors files: a CheckpointError or a self-consistent result")
  func safetensors() {
    var m = Mutator(rng: SplitMix64(seed: 1))
    let valid = validSafetensors()
    var accepted = 0, rejected = 0
    for _ in 0..<Self.inputsPerReader {
      let input = m.mutate(valid)
      do {
        let (tensors, _) = try Safetensors.parse(Data(input), file: "fuzz")
        accepted += 1
        // What is accepted covers the file exactly: the header, then every tensor's bytes.
        let headerLength = Int(input[0]) | Int(input[1]) << 8 | Int(input[2]) << 16 | Int(input[3]) << 24
        #expect(8 + headerLength + tensors.values.map(\.data.count).reduce(0, +) == input.count)
        for (name, e) in tensors {
          #expect(e.data.count == e.shape.reduce(1, *) * SafetensorsEntry.elementSizes[e.dtype]!, "\(name)")
          if e.dtype == "F32" || e.dtype == "F64" { _ = try? e.floats(file: "fuzz", name: name) as Tensor<Double> }
          if ["I64", "I32", "U8"].contains(e.dtype) { _ = try? e.integers(file: "fuzz", name: name) }
        }
      } catch is CheckpointError {
        rejected += 1
      } catch {
        Issue.record("unexpected error type \(type(of: error)): \(error)")
      }
    }
    // The mutations reach both sides (a fuzzer whose inputs all fail at the first check tests nothing).
    #expect(accepted > 20 && rejected > Self.inputsPerReader / 2, "accepted \(accepted), rejected \(rejected)")
  }

  @Test("the crash reproducers of the reliability issue are clean errors")
  func safetensorsReproducers() throws {
    func file(_ header: String, dataBytes: Int, lengthDelta: Int = 0) -> Data {
      var out = Data()
      var n = UInt64(header.utf8.count + lengthDelta).littleEndian
      withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
      out.append(contentsOf: Array(header.utf8))
      out.append(contentsOf: [UInt8](repeating: 0, count: dataBytes))
      return out
    }
    let ok = #"{"x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#
    #expect(throws: Never.self) { _ = try Safetensors.parse(file(ok, dataBytes: 16), file: "ok") }
    let bad: [(String, Data)] = [
      // 2⁶¹ × 8 × 4 wraps to 0 bytes... and to 640 with the right factors: checked now.
      ("overflowing shape", file(#"{"x":{"dtype":"F32","shape":[2305843009213693952,8],"data_offsets":[0,640]}}"#, dataBytes: 640)),
      ("overflowing weight", file(#"{"w":{"dtype":"F32","shape":[4611686018427387904,1],"data_offsets":[0,0]}}"#, dataBytes: 0)),
      ("header one byte short", file(ok, dataBytes: 16, lengthDelta: -1)),
      ("trailing bytes", file(ok, dataBytes: 17)),
      ("truncated data", file(ok, dataBytes: 15)),
      ("gap", file(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, dataBytes: 8)),
      ("overlap", file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, dataBytes: 12)),
      ("fractional shape", file(#"{"x":{"dtype":"F32","shape":[2.0,2],"data_offsets":[0,16]}}"#, dataBytes: 16)),
      ("negative offset", file(#"{"x":{"dtype":"F32","shape":[2,2],"data_offsets":[-16,0]}}"#, dataBytes: 16)),
      ("duplicate key", file(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 4)),
      ("duplicate metadata", file(#"{"__metadata__":{"a":"1"},"__metadata__":{"a":"2"}}"#, dataBytes: 0)),
      ("non-string metadata", file(#"{"__metadata__":{"a":1}}"#, dataBytes: 0)),
      ("unknown dtype", file(#"{"x":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}"#, dataBytes: 16)),
      ("not an object", file("[1,2,3]", dataBytes: 0)),
      ("huge header length", { var d = file(ok, dataBytes: 16); d[7] = 0x7F; return d }()),
    ]
    for (what, data) in bad {
      #expect(throws: CheckpointError.self, "\(what)") { _ = try Safetensors.parse(data, file: what) }
    }
  }

  @Test("mutated JSON: a ParseError or a value, never a trap; deep nesting is bounded")
  func strictJSON() throws {
    var m = Mutator(rng: SplitMix64(seed: 2))
    let valid = Array(#"{"a":[1,-2.5e3,true,null,{"b":"\u00e9\ud83d\ude00"}],"c":"x\n"}"#.utf8)
    var accepted = 0
    for _ in 0..<Self.inputsPerReader {
      do { _ = try StrictJSON.parse(m.mutate(valid)); accepted += 1 } catch is StrictJSON.ParseError {} catch {
        Issue.record("unexpected error \(error)")
      }
    }
    #expect(accepted > 20)
    #expect(throws: StrictJSON.ParseError.self) { _ = try StrictJSON.parse(Array((String(repeating: "[", count: 100_000)).utf8)) }
    #expect(try StrictJSON.parse(Array(#"{"k":[3,"s"]}"#.utf8)) == .object([("k", .array([.number("3"), .string("s")]))]))
    #expect(StrictJSON.number("3").nonNegativeInteger == 3)
    #expect(StrictJSON.number("3.0").nonNegativeInteger == nil && StrictJSON.number("-1").nonNegativeInteger == nil)
    #expect(StrictJSON.number("99999999999999999999").nonNegativeInteger == nil)
  }

  @Test("mutated IDX files: a DataError or an array exactly as large as its header says")
  func idx() {
    var m = Mutator(rng: SplitMix64(seed: 3))
    let valid: [UInt8] = [0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3] + (0..<12).map { UInt8($0) }
    var accepted = 0
    for _ in 0..<Self.inputsPerReader {
      do {
        let a = try IDX.parse(m.mutate(valid), path: "fuzz")
        accepted += 1
        #expect(a.bytes.count == a.shape.reduce(1, *))
      } catch is DataError {} catch { Issue.record("unexpected error \(error)") }
    }
    #expect(accepted > 20)
    // Four dimensions of 2³² − 1 overflow Int: an error, not a trap.
    #expect(throws: DataError.self) { _ = try IDX.parse([0, 0, 8, 4] + [UInt8](repeating: 0xFF, count: 16), path: "p") }
  }

  @Test("mutated CIFAR-10 records: a DataError or labels in 0..<10, one per record")
  func cifarRecords() {
    var m = Mutator(rng: SplitMix64(seed: 4))
    let valid = (0..<3).flatMap { i in [UInt8(i)] + [UInt8](repeating: UInt8(i * 40), count: 3072) }
    var accepted = 0
    for _ in 0..<(Self.inputsPerReader / 5) {
      do {
        let input = m.mutate(valid)
        let labels = try CIFAR10.labels(of: input, path: "fuzz")
        accepted += 1
        #expect(labels.count * CIFAR10.recordSize == input.count && labels.allSatisfy { (0..<10).contains($0) })
      } catch is DataError {} catch { Issue.record("unexpected error \(error)") }
    }
    #expect(accepted > 5)
  }

  @Test("devices and FIFOs are refused before reading")
  func specialFiles() throws {
    #expect(throws: DataError.self) { _ = try IDX.read(path: "/dev/zero") }
    let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("repro-fifo-\(getpid())").path
    unlink(fifo)
    #expect(mkfifo(fifo, 0o600) == 0)
    defer { unlink(fifo) }
    #expect(throws: DataError.self) { _ = try IDX.read(path: fifo) }
    #expect(throws: CheckpointError.self) { _ = try Safetensors.read(path: fifo) }
    #expect(throws: CheckpointError.self) { _ = try Safetensors.read(path: "/dev/zero") }
  }

  @Test("mutated model specs: a ParseError or a model whose widths are all positive")
  func modelSpecs() {
    var m = Mutator(rng: SplitMix64(seed: 5))
    let valid = Array("mlp:784-512-512-10:tanh".utf8)
    for _ in 0..<Self.inputsPerReader {
      let text = String(decoding: m.mutate(valid), as: UTF8.self)
      if let spec = try? ModelSpec(parsing: text), case .mlp(let widths, _) = spec.family {
        #expect(widths.count >= 2 && widths.allSatisfy { $0 > 0 }, "\(text)")
      }
    }
    for typo in ["mlp:-8-6-3:tanh", "mlp:8--6-3:tanh", "mlp:8-6-3-:tanh", "mlp:+8-6-3:tanh", "mlp:8-6-99999999999999999999:tanh",
                 "mlp:100000000-100000000-10:relu"] {
      #expect(throws: ModelSpec.ParseError.self, "\(typo)") { _ = try ModelSpec(parsing: typo) }
    }
  }
}
