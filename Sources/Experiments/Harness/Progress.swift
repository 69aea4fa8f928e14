import Foundation

/// Progress of a sweep: on a terminal one line redrawn with run i/N, the current loss and an
/// ETA; in logs (no terminal) a plain line per finished run and, while a run trains, a line every
/// `heartbeat` seconds. Under `repro all` every line starts with the overall position and ETA.
public final class ProgressReporter: @unchecked Sendable {
  let total: Int
  let interactive: Bool
  let overall: OverallProgress?
  /// Seconds between progress lines in a log.
  let heartbeat: Double
  let start = Date()
  let lock = NSLock()
  var finished = 0
  var current: [Int: (label: String, step: Int, steps: Int, loss: Double)] = [:]
  var lastDraw = Date.distantPast
  let quiet: Bool

  public init(total: Int, quiet: Bool = false, overall: OverallProgress? = nil, interactive: Bool? = nil, heartbeat: Double = 30) {
    self.total = total
    self.quiet = quiet
    self.overall = overall
    self.heartbeat = heartbeat
    self.interactive = interactive ?? (isatty(STDERR_FILENO) != 0)
    lastDraw = Date()
  }

  /// The overall position ("[all 4/10 fig4 · ETA 52 min] "), or nothing outside `repro all`.
  /// The caller holds the lock.
  func overallPrefix() -> String {
    guard let overall else { return "" }
    return overall.prefix(done: total > 0 ? Double(finished) / Double(total) : nil) + " "
  }

  /// The line for the run in progress (the caller holds the lock).
  func progressLine() -> String {
    let active = current.values.sorted { $0.label < $1.label }.first
    let detail = active.map { "\($0.label) step \($0.step + 1)/\($0.steps) loss \(String(format: "%.4g", $0.loss))" } ?? ""
    return "\(overallPrefix())[\(finished)/\(total)] \(detail) \(eta())"
  }

  func write(_ s: String) {
    FileHandle.standardError.write(Data(s.utf8))
  }

  /// A run reports a training step.
  public func step(run: Int, label: String, step: Int, steps: Int, loss: Double) {
    guard !quiet else { return }
    lock.lock()
    defer { lock.unlock() }
    current[run] = (label, step, steps, loss)
    let now = Date()
    guard now.timeIntervalSince(lastDraw) > (interactive ? 0.2 : heartbeat) else { return }
    lastDraw = now
    write(interactive ? "\r\u{1B}[K" + progressLine() : progressLine() + "\n")
  }

  /// A run finished (or was loaded from the store).
  public func finish(run: Int, label: String, seconds: Double, summary: String) {
    lock.lock()
    defer { lock.unlock() }
    finished += 1
    current[run] = nil
    guard !quiet else { return }
    let line = "\(overallPrefix())[\(finished)/\(total)] \(label): \(summary) (\(String(format: "%.1f", seconds)) s)"
    write(interactive ? "\r\u{1B}[K" + line + " " + eta() + "\n" : line + "\n")
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
