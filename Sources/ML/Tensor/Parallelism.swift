import COpenBLAS
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How one computation uses the machine's cores.
///
/// `threads` is the number of cores one run may use (`--threads`). Outside data-parallel
/// regions it is OpenBLAS's thread count. A network whose examples are independent splits a
/// batch into `threads` shards instead (`Network.lossAndGradient`, `hessianVectorProduct`):
/// each shard runs the whole forward and backward pass on its own thread with single-threaded
/// BLAS, so the element-wise work between GEMMs runs in parallel too, and the threads meet only
/// once, to add the shards' gradients. While any such region is active, OpenBLAS runs with one
/// thread and the ops' own two-way splits (`forEachImage`) stay serial.
///
/// OpenBLAS stays single-threaded after a data-parallel region too, until a computation that
/// runs a batch whole asks for its threads back (`useBLASThreads`). An OpenBLAS worker spins
/// (sched_yield) for a long while after each multithreaded call, so a multithreaded call
/// between two sharded passes (a Lanczos step's GEMVs between two sharded HVPs) would leave it
/// spinning through the next pass on a core the shards need: W2's 20 Lanczos steps took 1.5 s
/// that way against 1.2 s with no spinning.
public enum Parallelism {
  /// Whether networks may split batches into shards at all (`repro bench --no-shards` turns it
  /// off to compare with multithreaded BLAS alone).
  public static var splitsBatches: Bool {
    get { state.withLock { $0.splitsBatches } }
    set { state.withLock { $0.splitsBatches = newValue } }
  }

  struct State {
    var splitsBatches = true
    /// OpenBLAS's own default (the core count, or OPENBLAS_NUM_THREADS) until set.
    var threads = Int(openblas_get_num_threads())
    /// What OpenBLAS was last told.
    var blasThreads = Int(openblas_get_num_threads())
    /// Data-parallel regions running now (two runs side by side may each have one).
    var activeRegions = 0

    mutating func setBLAS(_ n: Int) {
      if blasThreads != n { openblas_set_num_threads(Int32(n)); blasThreads = n }
    }
  }

  static let state = Mutex(State())

  /// The thread count one computation may use.
  public static var threads: Int { state.withLock { $0.threads } }

  /// Sets the thread count, and OpenBLAS's unless a data-parallel region is running (then the
  /// next whole-batch computation gives it to OpenBLAS, see `useBLASThreads`).
  public static func setThreads(_ n: Int) {
    precondition(n >= 1, "thread count must be at least 1")
    state.withLock { s in
      s.threads = n
      if s.activeRegions == 0 { s.setBLAS(n) }
    }
  }

  /// Gives OpenBLAS all the threads again (unless a data-parallel region is running): for a
  /// computation about to run a batch whole, whose parallelism is BLAS's.
  public static func useBLASThreads() {
    state.withLock { s in
      if s.activeRegions == 0 { s.setBLAS(s.threads) }
    }
  }

  /// Whether the current thread is one of a data-parallel region's workers: ops must not
  /// split their own work further (the other cores are busy with the other shards).
  public static var isShardWorker: Bool { pthread_getspecific(shardWorkerKey) != nil }

  /// Runs `body(i)` for i in 0..<count concurrently, one thread each, with BLAS single-threaded
  /// for the duration. `body` must write disjoint memory for different i.
  public static func forEachShard(_ count: Int, _ body: (Int) -> Void) {
    precondition(count >= 1, "forEachShard: no shards")
    if count == 1 { body(0); return }
    state.withLock { s in
      s.setBLAS(1)
      s.activeRegions += 1
    }
    // OpenBLAS stays single-threaded afterwards (see above).
    defer { state.withLock { $0.activeRegions -= 1 } }
    withoutActuallyEscaping(body) { body in
      let task = UnsafeSendableBox(body)
      DispatchQueue.concurrentPerform(iterations: count) { i in
        let wasWorker = pthread_getspecific(shardWorkerKey)
        pthread_setspecific(shardWorkerKey, markerAddress)
        defer { pthread_setspecific(shardWorkerKey, wasWorker) }
        task.value(i)
      }
    }
  }
}

/// The thread-specific flag behind `Parallelism.isShardWorker` (non-nil inside a worker).
private let shardWorkerKey: pthread_key_t = {
  var key = pthread_key_t()
  let status = pthread_key_create(&key, nil)
  precondition(status == 0, "pthread_key_create failed (\(status))")
  return key
}()

/// Any non-nil pointer serves as the flag's "set" value.
private nonisolated(unsafe) let markerAddress = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
