import Foundation
import Testing
@testable import Plotting

/// Golden-text snapshots under `Tests/PlottingTests/Snapshots/`, found relative to this file.
/// A missing snapshot is recorded and the test fails; `RECORD_SNAPSHOTS=1` re-records all of them.
func assertSnapshot(_ text: String, named name: String, filePath: String = #filePath,
                    sourceLocation: SourceLocation = #_sourceLocation) throws {
  let dir = URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
  let url = dir.appendingPathComponent(name)
  let record = ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1"
  if record || !FileManager.default.fileExists(atPath: url.path) {
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
    Issue.record("Recorded snapshot \(name); re-run the tests to compare against it.", sourceLocation: sourceLocation)
    return
  }
  let expected = try String(contentsOf: url, encoding: .utf8)
  if expected != text {
    let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let b = text.split(separator: "\n", omittingEmptySubsequences: false)
    let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
    let context = first < b.count ? String(b[first].prefix(200)) : "<end of output>"
    Issue.record("Snapshot \(name) differs at line \(first + 1): \(context)  (RECORD_SNAPSHOTS=1 re-records)",
                 sourceLocation: sourceLocation)
  }
}

/// Whether two colours are within `tolerance` per channel (0–1 scale).
func close(_ a: Color, _ b: Color, tolerance: Double = 0.04) -> Bool {
  abs(a.red - b.red) <= tolerance && abs(a.green - b.green) <= tolerance && abs(a.blue - b.blue) <= tolerance
}

/// All text drawn by a scene.
func texts(_ scene: Scene) -> [String] {
  scene.primitives.compactMap { if case .text(let t) = $0 { return t.text } else { return nil } }
}
