import CZlib
import Foundation
import Testing
@testable import ML

@Suite("Data loaders")
struct DataTests {
  func tempDir(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("repro-data-\(getpid())-\(name)").path
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }

  func idxBytes(shape: [Int], data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
    for d in shape { out += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
    return out + data
  }

  func writeGzip(_ bytes: [UInt8], to path: String) {
    let f = gzopen(path, "wb")
    _ = bytes.withUnsafeBytes { gzwrite(f, $0.baseAddress, UInt32($0.count)) }
    gzclose(f)
  }

  /// A 12-image Fashion-MNIST look-alike: image i is constant i·20, label i % 10.
  func writeFixture(_ dir: String, prefix: String = "train", count: Int = 12) {
    let pixels = (0..<count).flatMap { i in [UInt8](repeating: UInt8(i * 20), count: 784) }
    writeGzip(idxBytes(shape: [count, 28, 28], data: pixels), to: "\(dir)/\(prefix)-images-idx3-ubyte.gz")
    writeGzip(idxBytes(shape: [count], data: (0..<count).map { UInt8($0 % 10) }), to: "\(dir)/\(prefix)-labels-idx1-ubyte.gz")
  }

  @Test func fixtureLoadsWithNormalizationAndDownsampling() throws {
    let dir = tempDir("ok")
    writeFixture(dir)
    let d: Dataset<Float> = try FashionMNIST.load(.train, directory: dir)
    #expect(d.inputs.shape == [12, 28, 28, 1] && d.labels == (0..<12).map { $0 % 10 })
    let expected = Float((Double(3 * 20) / 255 - 0.2860) / 0.3530)
    #expect(abs(d.inputs[3, 5, 7, 0] - expected) < 1e-6)
    let small: Dataset<Float> = try FashionMNIST.load(.train, directory: dir, side: 14)
    #expect(small.inputs.shape == [12, 14, 14, 1] && abs(small.inputs[3, 2, 2, 0] - expected) < 1e-6)
    // Balanced subset: the first example of each class.
    let subset: Dataset<Float> = try FashionMNIST.load(.train, directory: dir, limit: 10)
    #expect(subset.labels == Array(0..<10))
  }

  @Test func missingTruncatedAndCorruptFiles() throws {
    #expect(throws: DataError.self) { let _: Dataset<Float> = try FashionMNIST.load(.train, directory: "/nonexistent") }
    do {
      let _: Dataset<Float> = try FashionMNIST.load(.train, directory: "/nonexistent")
    } catch let e as DataError {
      #expect(e.description.contains("apt-get install dataset-fashion-mnist"))
    }
    // Truncated gzip stream.
    let dir = tempDir("trunc")
    writeFixture(dir)
    let path = "\(dir)/train-images-idx3-ubyte.gz"
    let full = try Data(contentsOf: URL(fileURLWithPath: path))
    try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: path))
    #expect(throws: DataError.self) { let _: Dataset<Float> = try FashionMNIST.load(.train, directory: dir) }
    // Data shorter than the header promises; bad magic; wrong element type.
    #expect(throws: DataError.self) { _ = try IDX.parse(idxBytes(shape: [2, 3], data: [1, 2, 3]), path: "p") }
    #expect(throws: DataError.self) { _ = try IDX.parse([1, 2, 3, 4, 5], path: "p") }
    #expect(throws: DataError.self) { _ = try IDX.parse([0, 0, 0x0D, 1, 0, 0, 0, 1, 0], path: "p") }
    // Labels out of range.
    let bad = tempDir("labels")
    writeFixture(bad)
    writeGzip(idxBytes(shape: [12], data: [UInt8](repeating: 11, count: 12)), to: "\(bad)/train-labels-idx1-ubyte.gz")
    #expect(throws: DataError.self) { let _: Dataset<Float> = try FashionMNIST.load(.train, directory: bad) }
  }

  static let haveFashionMNIST = FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory + "/t10k-labels-idx1-ubyte.gz")

  @Test(.enabled(if: haveFashionMNIST, "dataset-fashion-mnist is not installed"))
  func realFashionMNIST() throws {
    let test: Dataset<Float> = try FashionMNIST.load(.test)
    #expect(test.count == 10_000 && test.inputs.shape == [10_000, 28, 28, 1])
    #expect(Array(test.labels.prefix(10)) == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
    let full: Dataset<Float> = try FashionMNIST.load(.train, side: 14)
    #expect(full.count == 60_000 && Array(full.labels.prefix(10)) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
    let train: Dataset<Float> = try FashionMNIST.load(.train, limit: 1000)
    #expect(train.count == 1000 && Set(train.labels).count == 10)
    #expect((0..<10).allSatisfy { c in train.labels.filter { $0 == c }.count == 100 })
  }
}

@Suite("CIFAR-10 binary files")
struct CIFAR10Tests {
  /// Writes CIFAR-format files: record i has label i % 10 and pixel (channel c, position p) =
  /// (i + c·7 + p) mod 256.
  func writeFixture(_ dir: String, recordsPerFile: Int = 4) throws {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var i = 0
    for name in CIFAR10.files(.train) + CIFAR10.files(.test) {
      var data = Data()
      for _ in 0..<recordsPerFile {
        data.append(UInt8(i % 10))
        for c in 0..<3 { for p in 0..<1024 { data.append(UInt8((i + c * 7 + p) % 256)) } }
        i += 1
      }
      try data.write(to: URL(fileURLWithPath: dir + "/" + name))
    }
  }

  @Test func loadsLayoutAndLabels() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("repro-cifar-\(getpid())").path
    try writeFixture(dir)
    let train: Dataset<Double> = try CIFAR10.load(.train, directory: dir)
    #expect(train.inputs.shape == [20, 32, 32, 3] && train.labels == (0..<20).map { $0 % 10 })
    // Record 3, green channel, pixel (row 1, col 2) = p 34: raw (3 + 7 + 34) = 44.
    expectClose(train.inputs[3, 1, 2, 1], (44.0 / 255 - 0.4822) / 0.2435, rtol: 1e-12)
    let test: Dataset<Float> = try CIFAR10.load(.test, directory: dir)
    #expect(test.count == 4 && test.labels == [0, 1, 2, 3])
  }

  @Test func missingAndTruncatedFiles() throws {
    #expect(throws: DataError.self) { let _: Dataset<Float> = try CIFAR10.load(.test, directory: "/nonexistent") }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("repro-cifar-bad-\(getpid())").path
    try writeFixture(dir)
    let path = dir + "/test_batch.bin"
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    try data.prefix(data.count - 100).write(to: URL(fileURLWithPath: path))
    #expect(throws: DataError.self) { let _: Dataset<Float> = try CIFAR10.load(.test, directory: dir) }
    var bad = data
    bad[0] = 12
    try bad.write(to: URL(fileURLWithPath: path))
    #expect(throws: DataError.self) { let _: Dataset<Float> = try CIFAR10.load(.test, directory: dir) }
  }
}

@Suite("Augmentation")
struct AugmentationTests {
  @Test func flipAndCropMovesPixelsExactly() {
    // One 3×3 single-channel image with distinct values; pad 0 leaves only flips.
    let x = Tensor<Double>(shape: [1, 3, 3, 1], scalars: (1...9).map(Double.init))
    var sawFlip = false, sawIdentity = false
    for seed in 0..<20 as Range<UInt64> {
      var rng = SplitMix64(seed: seed)
      let y = Augmentation.flipAndCrop(x, pad: 0, rng: &rng).scalars
      if y == [3, 2, 1, 6, 5, 4, 9, 8, 7] { sawFlip = true } else if y == x.scalars { sawIdentity = true } else {
        Issue.record("pad 0 must flip or keep the image, got \(y)")
      }
    }
    #expect(sawFlip && sawIdentity)
    // With padding, every output pixel is either zero or a source pixel, and the seed fixes it.
    var a = SplitMix64(seed: 3), b = SplitMix64(seed: 3)
    let big = Tensor<Double>(shape: [4, 8, 8, 2], scalars: (0..<512).map { Double($0 + 1) })
    let ya = Augmentation.flipAndCrop(big, pad: 2, rng: &a), yb = Augmentation.flipAndCrop(big, pad: 2, rng: &b)
    #expect(ya.scalars == yb.scalars)
    let values = Set(big.scalars)
    #expect(ya.scalars.allSatisfy { $0 == 0 || values.contains($0) })
  }

  @Test func mixupIsAConvexCombination() {
    var rng = SplitMix64(seed: 1)
    let x = Tensor<Double>(shape: [4, 2], scalars: [1, 0, 2, 0, 3, 0, 4, 0])
    let (m, perm, lambda) = Augmentation.mixup(x, alpha: 0.2, rng: &rng)
    #expect(lambda >= 0 && lambda <= 1 && perm.sorted() == [0, 1, 2, 3])
    for i in 0..<4 { expectClose(m[i, 0], lambda * x[i, 0] + (1 - lambda) * x[perm[i], 0], rtol: 1e-12) }
    // Beta(α, α) has mean ½.
    var r = SplitMix64(seed: 2)
    let draws = (0..<4000).map { _ in Augmentation.beta(0.4, 0.4, rng: &r) }
    expectClose(draws.reduce(0, +) / 4000, 0.5, atol: 0.02, "Beta mean")
  }
}
