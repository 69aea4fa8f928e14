import ArgumentParser
import ML

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Time gradients, HVPs and Lanczos on the reference workloads (release build).")

  func run() throws {
    throw ValidationError("not yet")
  }
}
