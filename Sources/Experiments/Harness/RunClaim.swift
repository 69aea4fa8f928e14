import Foundation

/// A marker that one process is training a run: `<run dir>/claim`, created exclusively
/// (`O_CREAT | O_EXCL`, atomic on local and NFSv3+ file systems), so that two processes on one
/// results directory (two shards started twice, a job array restarted while the first still
/// runs) do not both train it. The holder touches it while it trains; a claim untouched for
/// `staleAfter` seconds belongs to a process that died and is taken over.
public final class RunClaim: @unchecked Sendable {
  /// Long enough for any step between progress callbacks, short enough that a killed sweep
  /// resumes its claimed runs the same hour.
  public static let staleAfter: TimeInterval = 600

  public let path: String
  private let lock = NSLock()
  private var lastTouch = Date()

  private init(path: String) { self.path = path }

  /// Claims the run whose directory is `directory`, or returns nil when another live process
  /// holds it. `now` and `staleAfter` are parameters for the tests.
  public static func acquire(directory: URL, staleAfter: TimeInterval = RunClaim.staleAfter,
                             now: Date = Date()) throws -> RunClaim? {
    do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
      throw HarnessError.unwritable(directory.path, reason: error.localizedDescription)
    }
    let path = directory.appendingPathComponent("claim").path
    for attempt in 0..<2 {
      let fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o644)
      if fd >= 0 {
        let owner = "\(ResultStore.host) \(getpid()) \(Int(now.timeIntervalSince1970))\n"
        _ = owner.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        return RunClaim(path: path)
      }
      guard errno == EEXIST else {
        throw HarnessError.unwritable(path, reason: String(cString: strerror(errno)))
      }
      // Held: by a live process unless it has not been touched for `staleAfter`.
      guard attempt == 0, let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
            now.timeIntervalSince(modified) > staleAfter
      else { return nil }
      unlink(path)
    }
    return nil
  }

  /// Marks the claim alive (at most every 30 s, so progress callbacks can call it freely).
  public func touch() {
    lock.lock()
    defer { lock.unlock() }
    guard Date().timeIntervalSince(lastTouch) > 30 else { return }
    lastTouch = Date()
    utimes(path, nil)
  }

  /// Gives the claim up (after the result is stored, or when training failed).
  public func release() { unlink(path) }
}
