import COpenBLAS
import Foundation

/// Which kernels OpenBLAS runs, and a correction for one way it picks badly.
///
/// OpenBLAS (Debian's build supports every x86 generation) chooses its kernels once, while the
/// library loads, from the CPU's model number. A virtual machine that reports a generic model
/// ("Intel(R) Xeon(R) Processor") gets the Prescott (SSE3) fallback even with AVX-512: measured
/// on such a 2-core VM, sgemm ran at 65 GFLOP/s with Prescott and 306 with the SkylakeX kernels
/// it had all along (the W1 gradient 7.5 ms against 2.5 ms). `OPENBLAS_CORETYPE` overrides the
/// choice, but only while the library loads, so the process sets it and starts itself again.
public enum BLASCore {
  /// OpenBLAS's name for the kernels it chose ("Prescott", "SkylakeX", "Haswell", …).
  public static var name: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

  /// OpenBLAS's fallbacks for CPUs it does not recognize, older than any AVX2 machine.
  static let fallbacks: Set<String> = ["prescott", "katmai", "coppermine", "northwood", "banias", "core2", "penryn", "dunnington", "nehalem", "atom"]

  /// The best OpenBLAS core this CPU can run, from its feature flags (`/proc/cpuinfo`):
  /// "SKYLAKEX" with AVX-512 F, CD, BW, DQ and VL; "HASWELL" with AVX2 and FMA; nil otherwise.
  public static func bestCore(flags: Set<String>) -> String? {
    if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "SKYLAKEX" }
    if flags.contains("avx2") && flags.contains("fma") { return "HASWELL" }
    return nil
  }

  /// The `flags` of the first processor in `/proc/cpuinfo` (empty where there is none).
  static func cpuFlags() -> Set<String> {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
          let colon = line.firstIndex(of: ":") else { return [] }
    return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
  }

  /// The core to force instead of `chosen`, or nil when OpenBLAS's own choice stands (it is
  /// not a fallback, the CPU has nothing better, or the user set `OPENBLAS_CORETYPE`).
  public static func correction(chosen: String, flags: Set<String>, environment: [String: String]) -> String? {
    guard environment["OPENBLAS_CORETYPE"] == nil, fallbacks.contains(chosen.lowercased()) else { return nil }
    return bestCore(flags: flags)
  }

  /// Starts this process again with `OPENBLAS_CORETYPE` set when OpenBLAS fell back to old
  /// kernels on a CPU with AVX2 or AVX-512 (once: the new process finds the variable set).
  /// Returns (without doing anything) when no correction applies or the restart fails.
  public static func correctMisdetection() {
    let env = ProcessInfo.processInfo.environment
    guard let core = correction(chosen: name, flags: cpuFlags(), environment: env) else { return }
    setenv("OPENBLAS_CORETYPE", core, 1)
    let args = CommandLine.arguments
    var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
    execv("/proc/self/exe", &argv)
    // Only reached if the restart failed: carry on with the kernels OpenBLAS chose.
    unsetenv("OPENBLAS_CORETYPE")
  }
}
