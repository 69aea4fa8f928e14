import Foundation

/// CIFAR-10 in its binary version (Krizhevsky 2009), read from a directory the user names:
/// `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`, each 10 000 records of one
/// label byte and 3 072 pixel bytes (1 024 red, 1 024 green, 1 024 blue, row-major 32×32).
public enum CIFAR10 {
  public static let classes = 10
  public static let recordSize = 1 + 3072
  /// The most records one file may hold (each of the six holds 10 000).
  public static let maximumRecordsPerFile = 10_000
  /// Per-channel mean and standard deviation of the training set (RGB, on [0, 1]).
  static let mean = [0.4914, 0.4822, 0.4465], std = [0.2470, 0.2435, 0.2616]

  public enum Split: Sendable { case train, test }

  public static func files(_ split: Split) -> [String] {
    split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
  }

  /// The labels of a file's records, checking that it is whole records with labels in 0..<10.
  public static func labels(of bytes: [UInt8], path: String) throws -> [Int] {
    guard bytes.count > 0, bytes.count % recordSize == 0 else {
      throw DataError.corrupt(path: path, reason: "\(bytes.count) bytes is not a whole number of \(recordSize)-byte records")
    }
    return try (0..<(bytes.count / recordSize)).map { i in
      let label = Int(bytes[i * recordSize])
      guard label < classes else { throw DataError.corrupt(path: path, reason: "record \(i) has label \(label) outside 0..<10") }
      return label
    }
  }

  /// Standardized NHWC images [N, 32, 32, 3]; `limit` keeps a class-balanced subset.
  public static func load<S: TensorScalar>(_ split: Split, directory: String, limit: Int? = nil) throws -> Dataset<S> {
    var bytes = [UInt8]()
    for name in files(split) {
      let path = directory + "/" + name
      guard FileManager.default.fileExists(atPath: path) else {
        throw DataError.missing(path: path, hint: "CIFAR-10 binary version expected in --data-dir (data_batch_1..5.bin, test_batch.bin)")
      }
      try DataFile.requireRegular(path)
      // Bounded before reading: a batch file of the binary version holds 10 000 records.
      let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
      if let size, size > maximumRecordsPerFile * recordSize {
        throw DataError.corrupt(path: path, reason: "\(size) bytes, more than \(maximumRecordsPerFile) records")
      }
      guard let data = FileManager.default.contents(atPath: path) else {
        throw DataError.corrupt(path: path, reason: "unreadable")
      }
      _ = try labels(of: [UInt8](data), path: path)
      bytes.append(contentsOf: data)
    }
    let labels = try labels(of: bytes, path: directory)
    let keep = FashionMNIST.balancedSubset(labels: labels, limit: limit)
    let x = Tensor<S>(shape: [keep.count, 32, 32, 3]) { out in
      bytes.withUnsafeBufferPointer { src in
        for (row, i) in keep.enumerated() {
          let rec = src.baseAddress! + i * recordSize + 1
          for p in 0..<1024 {
            for c in 0..<3 {
              out[row * 3072 + p * 3 + c] = S((Double(rec[c * 1024 + p]) / 255 - mean[c]) / std[c])
            }
          }
        }
      }
    }
    return Dataset(inputs: x, labels: keep.map { labels[$0] }, classes: classes)
  }
}
