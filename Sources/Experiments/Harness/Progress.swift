import Foundation

/// Progress of a sweep: on a terminal one line redrawn with run i/N, the current loss and an
/// ETA; in logs (no terminal) a plain line per finished run.
public final class ProgressReporter: @unchecked Sendable {
  let total: Int
  let interactive: Bool
  let start = Date()
  let lock = NSLock()
  var finished = 0
  var current: [Int: (label: String, step: Int, steps: Int, loss: Double)] = [:]
  var lastDraw = Date.distantPast
  let quiet: Bool

  public init(total: Int, quiet: Bool = false) {
    self.total = total
    self.quiet = quiet
    interactive = isatty(STDERR_FILENO) != 0
  }

  func write(_ s: String) {
    FileHandle.standardError.write(Data(s.utf8))
  }

  /// A run reports a training step.
  public func step(run: Int, label: String, step: Int, steps: Int, loss: Double) {
    guard interactive, !quiet else { return }
    lock.lock()
    defer { lock.unlock() }
    current[run] = (label, step, steps, loss)
    let now = Date()
    guard now.timeIntervalSince(lastDraw) > 0.2 else { return }
    lastDraw = now
    let active = current.values.sorted { $0.label < $1.label }.first
    let detail = active.map { "\($0.label) step \($0.step + 1)/\($0.steps) loss \(String(format: "%.4g", $0.loss))" } ?? ""
    write("\r\u{1B}[K[\(finished)/\(total)] \(detail) \(eta())")
  }

  /// A run finished (or was loaded from the store).
  public func finish(run: Int, label: String, seconds: Double, summary: String) {
    lock.lock()
    defer { lock.unlock() }
    finished += 1
    current[run] = nil
    guard !quiet else { return }
    if interactive {
      write("\r\u{1B}[K[\(finished)/\(total)] \(label): \(summary) (\(String(format: "%.1f", seconds)) s) \(eta())\n")
    } else {
      write("[\(finished)/\(total)] \(label): \(summary) (\(String(format: "%.1f", seconds)) s)\n")
    }
  }

  func eta() -> String {
    guard finished > 0, finished < total else { return "" }
    let elapsed = Date().timeIntervalSince(start)
    let remaining = elapsed / Double(finished) * Double(total - finished)
    return remaining > 90 ? "ETA \(Int(remaining / 60)) min" : "ETA \(Int(remaining)) s"
  }

  public func note(_ s: String) {
    lock.lock()
    defer { lock.unlock() }
    write((interactive ? "\r\u{1B}[K" : "") + s + "\n")
  }
}
