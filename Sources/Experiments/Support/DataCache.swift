import Foundation
import ML

/// Data sets loaded once per process and shared by every run of a sweep (loading and
/// standardizing Fashion-MNIST takes about a second; a sweep has hundreds of runs).
public final class DataCache: @unchecked Sendable {
  public typealias Split = (train: Dataset<Float>, test: Dataset<Float>)
  public static let shared = DataCache()
  private let lock = NSLock()
  private var loaded: [String: Split] = [:]
  private var kingJames: CharacterCorpus?
  private var translationCorpora: [ModelZoo.Size: TranslationCorpus] = [:]

  /// The data set under `key`, loading it on first use (one load at a time: the runs of a
  /// sweep ask for the same data).
  private func cached(_ key: String, _ load: () throws -> Split) rethrows -> Split {
    lock.lock()
    defer { lock.unlock() }
    if let d = loaded[key] { return d }
    let d = try load()
    loaded[key] = d
    return d
  }

  /// Fashion-MNIST at `side`×`side`, class-balanced subsets of `train` and `test` examples.
  public func fashionMNIST(side: Int, train: Int, test: Int) throws -> Split {
    try cached("fmnist-\(side)-\(train)-\(test)") {
      try Self.checked((train: try FashionMNIST.load(.train, limit: train, side: side), test: try FashionMNIST.load(.test, limit: test, side: side)),
                       train: train, test: test, source: "Fashion-MNIST")
    }
  }

  /// The images of the zoo's `size`: Fashion-MNIST at 14×14 (tiny) or 28×28 (small), CIFAR-10
  /// from `dataDirectory` (full), class-balanced subsets of `train` and `test` examples.
  public func images(size: ModelZoo.Size, train: Int, test: Int, dataDirectory: String?) throws -> Split {
    switch size {
    case .tiny, .small: return try fashionMNIST(side: ModelZoo.imageShape(size)[0], train: train, test: test)
    case .full:
      guard let dir = dataDirectory else {
        throw DataError.missing(path: "--data-dir", hint: "the full scale trains on CIFAR-10: pass --data-dir with data_batch_1..5.bin and test_batch.bin")
      }
      return try cached("cifar10-\(dir)-\(train)-\(test)") {
        try Self.checked((train: try CIFAR10.load(.train, directory: dir, limit: train), test: try CIFAR10.load(.test, directory: dir, limit: test)),
                         train: train, test: test, source: "CIFAR-10 in \(dir)")
      }
    }
  }

  /// `split` if it holds the `train` and `test` examples asked for: a directory with a few
  /// records would otherwise train on fewer examples than the recipe says, or fewer than a batch.
  static func checked(_ split: Split, train: Int, test: Int, source: String) throws -> Split {
    if split.train.count < train {
      throw DataError.tooSmall(source: "\(source) (training set)", has: split.train.count, needs: train, setting: "trainExamples")
    }
    if split.test.count < test {
      throw DataError.tooSmall(source: "\(source) (test set)", has: split.test.count, needs: test, setting: "testExamples")
    }
    return split
  }

  /// KJV character windows of `length` tokens: `train` windows from the training verses and
  /// `test` from the held-out ones (every 20th verse), at fixed seeded offsets.
  public func kingJamesWindows(length: Int, train: Int, test: Int) throws -> Split {
    try cached("kjv-\(length)-\(train)-\(test)") {
      if kingJames == nil { kingJames = CharacterCorpus(verses: try Bible.kingJames().map(\.text)) }
      let corpus = kingJames!
      return (train: corpus.windows(count: train, length: length, seed: 11),
              test: corpus.windows(count: test, length: length, fromValidation: true, seed: 12))
    }
  }

  /// Every 10th aligned verse pair is held out (BLEU and test loss are measured on them).
  public static let translationValidationEvery = 10

  /// The KJV → Reina-Valera 1909 corpus of the zoo's `size` (its subword vocabulary and length:
  /// `ModelZoo.seq2seqVocabulary`, `seq2seqSequence`), built once per process: verse pairs of
  /// at most 200 characters a side, every 10th held out, the vocabulary learned from the
  /// training pairs.
  public func translationCorpus(size: ModelZoo.Size) throws -> TranslationCorpus {
    lock.lock()
    defer { lock.unlock() }
    if let c = translationCorpora[size] { return c }
    let pairs = Translation.align(try Bible.kingJames(), try Bible.reinaValera())
    let c = TranslationCorpus(pairs: pairs, validationEvery: Self.translationValidationEvery,
                              vocabularySize: ModelZoo.seq2seqVocabulary(size), length: ModelZoo.seq2seqSequence(size))
    translationCorpora[size] = c
    return c
  }

  /// The first `train` training pairs and `test` held-out pairs of `translationCorpus(size:)`
  /// that fit its length, as data sets.
  public func translation(size: ModelZoo.Size, train: Int, test: Int) throws -> Split {
    let corpus = try translationCorpus(size: size)
    let source = "the KJV → Reina-Valera 1909 pairs that fit \(corpus.length) pieces"
    if corpus.train.count < train {
      throw DataError.tooSmall(source: source + " (training)", has: corpus.train.count, needs: train, setting: "trainExamples")
    }
    if corpus.validation.count < test {
      throw DataError.tooSmall(source: source + " (held out)", has: corpus.validation.count, needs: test, setting: "testExamples")
    }
    return try cached("translation-\(size)-\(train)-\(test)") {
      (train: corpus.dataset(corpus.train, count: train), test: corpus.dataset(corpus.validation, count: max(test, 1)))
    }
  }
}
