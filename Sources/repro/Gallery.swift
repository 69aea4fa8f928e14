import ArgumentParser
import Foundation
import Plotting

/// `repro gallery`: renders every artist and a mock-up of each paper figure from synthetic data, to
/// check the plotting library by eye.
struct Gallery: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Render the plotting gallery (synthetic data) as PNG and SVG.")

  @Option(name: .long, help: "Directory to write the gallery into (created if missing).")
  var out: String = "figures/gallery"

  func run() throws {
    do {
      try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    } catch {
      throw PlotError.unwritable(path: out, reason: "cannot create directory (\(error.localizedDescription))")
    }
    // PlotError is CustomStringConvertible: ArgumentParser prints it as one "Error: …" line, exit code 1.
    for path in try renderGallery(to: out) { print(path) }
  }
}
