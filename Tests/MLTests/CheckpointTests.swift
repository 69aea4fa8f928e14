import Foundation
import Testing
@testable import ML

@Suite("Safetensors checkpoints")
struct CheckpointTests {
  let network = Network(build: { MLP(widths: [4, 3, 2], activation: .tanh, registry: &$0) })

  func tempPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("repro-ckpt-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
  }

  @Test func roundTripAndLayout() throws {
    let path = tempPath("rt.safetensors")
    let params: [Tensor<Float>] = network.initialParameters(seed: 3)
    try network.saveCheckpoint(params, to: path, metadata: ["format": "pt"])
    let loaded: [Tensor<Float>] = try network.loadCheckpoint(from: path)
    #expect(zip(params, loaded).allSatisfy { $0.scalars == $1.scalars && $0.shape == $1.shape })
    let (tensors, metadata) = try Safetensors.read(path: path)
    #expect(metadata == ["format": "pt"])
    #expect(tensors["layers.0.weight"]?.shape == [4, 3] && tensors["layers.0.weight"]?.dtype == "F32")
    #expect(tensors["layers.1.bias"]?.shape == [2])
    // The header length is a little-endian u64 and the data starts 8-byte aligned.
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    let n = bytes.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
    #expect(n % 8 == 0 && bytes[8] == UInt8(ascii: "{"))
  }

  @Test func readsAHandWrittenFile() throws {
    // A file laid out by hand as Python's safetensors writes it: F32 [2] = (1.5, -2).
    let header = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    var data = Data()
    var len = UInt64(header.utf8.count).littleEndian
    withUnsafeBytes(of: &len) { data.append(contentsOf: $0) }
    data.append(contentsOf: Array(header.utf8))
    for x: Float in [1.5, -2] { var b = x.bitPattern.littleEndian; withUnsafeBytes(of: &b) { data.append(contentsOf: $0) } }
    let (t, _) = try Safetensors.parse(data, file: "hand")
    let w: Tensor<Double> = try t["w"]!.floats(file: "hand", name: "w")
    #expect(w.scalars == [1.5, -2])
  }

  @Test func clearErrors() throws {
    let path = tempPath("e.safetensors")
    let params: [Tensor<Float>] = network.initialParameters(seed: 3)
    try network.saveCheckpoint(params, to: path)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))

    #expect(throws: CheckpointError.missingFile("/nonexistent/x.safetensors")) {
      let _: [Tensor<Float>] = try network.loadCheckpoint(from: "/nonexistent/x.safetensors")
    }
    // Truncated: the data offsets point past the end.
    let truncated = tempPath("trunc.safetensors")
    try bytes.prefix(bytes.count - 5).write(to: URL(fileURLWithPath: truncated))
    #expect(throws: CheckpointError.self) { let _: [Tensor<Float>] = try network.loadCheckpoint(from: truncated) }
    // Garbage header.
    #expect(throws: CheckpointError.self) { _ = try Safetensors.parse(Data([200, 0, 0, 0, 0, 0, 0, 0, 1, 2]), file: "g") }
    #expect(throws: CheckpointError.self) { _ = try Safetensors.parse(Data([1, 2, 3]), file: "g") }
    // A model with other widths: shape mismatch; another naming: unknown name.
    let wider = Network(build: { MLP(widths: [4, 5, 2], activation: .tanh, registry: &$0) })
    #expect(throws: CheckpointError.shapeMismatch(file: path, name: "layers.0.weight", expected: [4, 5], found: [4, 3])) {
      let _: [Tensor<Float>] = try wider.loadCheckpoint(from: path)
    }
    let deeper = Network(build: { MLP(widths: [4, 3, 2, 2], activation: .tanh, registry: &$0) })
    #expect(throws: CheckpointError.missingTensor(file: path, name: "layers.2.weight")) {
      let _: [Tensor<Float>] = try deeper.loadCheckpoint(from: path)
    }
    let shallower = Network(build: { MLP(widths: [4, 2], activation: .tanh, registry: &$0) })
    #expect(throws: CheckpointError.self) { let _: [Tensor<Float>] = try shallower.loadCheckpoint(from: path) }
    // Errors read as one line naming the file.
    let message = CheckpointError.unknownTensor(file: "a.st", name: "foo", expected: ["x"]).description
    #expect(message == "a.st: unknown parameter 'foo' (expected names: x)")
  }

  @Test func batchFiles() throws {
    let path = tempPath("b.safetensors")
    let x = Tensor<Float>(shape: [3, 4], scalars: (0..<12).map(Float.init))
    try Safetensors.write([("x", SafetensorsEntry(x)), ("y", SafetensorsEntry(integers: [0, 1, 1], shape: [3]))], to: path)
    let b: Batch<Float> = try Batch.load(safetensors: path, features: 4, classes: 2)
    #expect(b.labels == [0, 1, 1] && b.inputs.scalars == x.scalars)
    #expect(throws: CheckpointError.self) { let _: Batch<Float> = try Batch.load(safetensors: path, features: 5, classes: 2) }
    #expect(throws: CheckpointError.self) { let _: Batch<Float> = try Batch.load(safetensors: path, features: 4, classes: 1) }
  }
}
