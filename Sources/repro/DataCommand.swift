import ArgumentParser
import Foundation
import ML

/// `repro data`: prepares and checks every data set, and says what installs what is missing.
struct DataCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "data",
    abstract: "Prepare and check the data sets (Fashion-MNIST, the two Bibles, CIFAR-10 if given).")

  @Option(help: "Directory holding the CIFAR-10 binary files (optional).")
  var dataDir: String?

  @Option(help: "Cache for the extracted corpora.")
  var cache: String = Bible.defaultCacheDirectory

  struct Failure: Error, CustomStringConvertible {
    let count: Int
    var description: String { "\(count) data set(s) missing or unreadable; see above" }
  }

  func run() throws {
    var failures = 0
    func check(_ name: String, _ body: () throws -> String) {
      do {
        print("ok       \(name): \(try body())")
      } catch {
        failures += 1
        print("MISSING  \(name): \(error)")
      }
    }
    check("Fashion-MNIST") {
      let train: Dataset<Float> = try FashionMNIST.load(.train)
      let test: Dataset<Float> = try FashionMNIST.load(.test)
      return "\(train.count) train + \(test.count) test images, 28×28, 10 classes (\(FashionMNIST.defaultDirectory))"
    }
    var kjv: [Verse] = [], rv: [Verse] = []
    check("King James Bible") {
      kjv = try Bible.kingJames(cacheDirectory: cache)
      let corpus = CharacterCorpus(verses: kjv.map(\.text))
      return "\(kjv.count) verses, \(corpus.train.count + corpus.validation.count) characters, vocabulary \(corpus.vocabulary.count) (cached in \(cache))"
    }
    check("Reina-Valera 1909") {
      rv = try Bible.reinaValera(cacheDirectory: cache)
      return "\(rv.count) verses (cached in \(cache))"
    }
    if !kjv.isEmpty && !rv.isEmpty {
      check("KJV ↔ RV1909 pairs") { "\(Translation.align(kjv, rv).count) aligned verse pairs of at most 200 characters" }
    }
    if let dataDir {
      check("CIFAR-10") {
        let train: Dataset<Float> = try CIFAR10.load(.train, directory: dataDir)
        let test: Dataset<Float> = try CIFAR10.load(.test, directory: dataDir)
        return "\(train.count) train + \(test.count) test images, 32×32×3 (\(dataDir))"
      }
    } else {
      print("skipped  CIFAR-10: pass --data-dir DIR with data_batch_1..5.bin and test_batch.bin (full scale only)")
    }
    if failures > 0 {
      print("install the Debian packages with: bash scripts/install-deps.sh")
      throw Failure(count: failures)
    }
  }
}
