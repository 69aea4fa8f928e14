import ArgumentParser
import ML

struct Hessian: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Top Hessian eigenvalues of a checkpoint's loss on a batch.")

  func run() throws {
    throw ValidationError("not yet")
  }
}
