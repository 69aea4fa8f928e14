import Foundation
import ML

/// Data sets loaded once per process and shared by every run of a sweep (loading and
/// standardizing Fashion-MNIST takes about a second; a sweep has hundreds of runs).
public final class DataCache: @unchecked Sendable {
  public static let shared = DataCache()
  private let lock = NSLock()
  private var images: [String: (train: Dataset<Float>, test: Dataset<Float>)] = [:]
  private var kingJames: CharacterCorpus?

  /// Fashion-MNIST at `side`×`side`, class-balanced subsets of `train` and `test` examples.
  public func fashionMNIST(side: Int, train: Int, test: Int) throws -> (train: Dataset<Float>, test: Dataset<Float>) {
    let key = "fmnist-\(side)-\(train)-\(test)"
    lock.lock()
    defer { lock.unlock() }
    if let d = images[key] { return d }
    let d = (train: try FashionMNIST.load(.train, limit: train, side: side) as Dataset<Float>,
             test: try FashionMNIST.load(.test, limit: test, side: side) as Dataset<Float>)
    images[key] = d
    return d
  }

  /// The images of the zoo's `size`: Fashion-MNIST at 14×14 (tiny) or 28×28 (small), CIFAR-10
  /// from `dataDirectory` (full), class-balanced subsets of `train` and `test` examples.
  public func images(size: ModelZoo.Size, train: Int, test: Int, dataDirectory: String?) throws -> (train: Dataset<Float>, test: Dataset<Float>) {
    switch size {
    case .tiny, .small: return try fashionMNIST(side: ModelZoo.imageShape(size)[0], train: train, test: test)
    case .full:
      guard let dir = dataDirectory else {
        throw DataError.missing(path: "--data-dir", hint: "the full scale trains on CIFAR-10: pass --data-dir with data_batch_1..5.bin and test_batch.bin")
      }
      let key = "cifar10-\(dir)-\(train)-\(test)"
      lock.lock()
      defer { lock.unlock() }
      if let d = images[key] { return d }
      let d = (train: try CIFAR10.load(.train, directory: dir, limit: train) as Dataset<Float>,
               test: try CIFAR10.load(.test, directory: dir, limit: test) as Dataset<Float>)
      images[key] = d
      return d
    }
  }

  /// KJV character windows of `length` tokens: `train` windows from the training verses and
  /// `test` from the held-out ones (every 20th verse), at fixed seeded offsets.
  public func kingJamesWindows(length: Int, train: Int, test: Int) throws -> (train: Dataset<Float>, test: Dataset<Float>) {
    let key = "kjv-\(length)-\(train)-\(test)"
    lock.lock()
    defer { lock.unlock() }
    if let d = images[key] { return d }
    if kingJames == nil { kingJames = CharacterCorpus(verses: try Bible.kingJames().map(\.text)) }
    let corpus = kingJames!
    let d = (train: corpus.windows(count: train, length: length, seed: 11) as Dataset<Float>,
             test: corpus.windows(count: test, length: length, fromValidation: true, seed: 12) as Dataset<Float>)
    images[key] = d
    return d
  }
}
