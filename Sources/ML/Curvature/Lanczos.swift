/// An eigenvalue estimate with its Ritz residual ‖A·x − θ·x‖ (x unit norm), so a reader can see
/// whether it converged.
public struct RitzPair: Sendable, Hashable, Codable {
  public var value: Double
  public var residual: Double
}

public struct LanczosResult: Sendable, Codable {
  /// The largest algebraic eigenvalues, descending.
  public var eigenpairs: [RitzPair]
  /// Lanczos steps taken (fewer than requested after an invariant subspace is found).
  public var iterations: Int
  /// λ1 (the largest algebraic eigenvalue).
  public var top: Double { eigenpairs.first?.value ?? .nan }
}

public enum CurvatureError: Error, CustomStringConvertible, Equatable {
  /// The operator returned NaN or ±∞ (for a Hessian: the parameters or the loss are non-finite).
  case nonFinite(iteration: Int)
  /// The Krylov space closed before k Ritz values existed.
  case breakdown(iteration: Int, requested: Int)

  public var description: String {
    switch self {
    case .nonFinite(let i): return "Lanczos: the operator returned a non-finite vector at iteration \(i)"
    case .breakdown(let i, let k): return "Lanczos broke down after \(i) iterations, fewer than the \(k) eigenvalues requested"
    }
  }
}

/// Which end of the spectrum Lanczos reports.
public enum SpectrumEnd: String, Sendable, Hashable, Codable, CaseIterable {
  /// The largest algebraic eigenvalues (λ1, the sharpness), descending.
  case largest
  /// The smallest algebraic eigenvalues (the most negative curvature), ascending.
  case smallest
  /// The eigenvalues of largest magnitude, by descending |λ|.
  case magnitude

  /// Indices into ascending Ritz values `values` of the k this end selects, in report order.
  func select(_ values: [Double], k: Int) -> [Int] {
    let t = values.count
    switch self {
    case .largest: return (0..<k).map { t - 1 - $0 }
    case .smallest: return Array(0..<k)
    case .magnitude:
      // Ties broken toward the positive value (and then the lower index) so the order is fixed.
      return Array(values.indices.sorted { (abs(values[$0]), values[$0], -$0) > (abs(values[$1]), values[$1], -$1) }.prefix(k))
    }
  }
}

/// The Krylov basis of a Lanczos run: Float64 vectors, one contiguous row-major block (so
/// reorthogonalization is two GEMVs), freed with the run.
final class LanczosBasis {
  let n: Int
  let storage: UnsafeMutablePointer<Double>

  init(n: Int, capacity: Int) {
    self.n = n
    storage = UnsafeMutablePointer<Double>.allocate(capacity: capacity * n)
  }

  deinit { storage.deallocate() }
}

/// The tridiagonal matrix T_m (diagonal `alpha`, off-diagonal `beta`, `beta.count == alpha.count − 1`)
/// of a Lanczos run, the norm of the last residual vector (`lastBeta`, 0 when the Krylov space
/// closed), and the basis it was built on.
struct LanczosTridiagonal {
  var alpha: [Double]
  var beta: [Double]
  var lastBeta: Double
  let basis: LanczosBasis
}

/// The Lanczos recurrence with full reorthogonalization from the unit vector `start`, for at
/// most `steps` steps: after the three-term recurrence, classical Gram–Schmidt against every
/// previous vector, repeated when it cancels much of the vector (this keeps the basis orthogonal
/// to machine precision). `stop(alpha, beta, ‖w‖)` after each step, from the second on, may end
/// it early. Stops at an invariant subspace (‖w‖ ≤ 10⁻¹⁰·max(|α|, 1); `lastBeta` is then 0).
func lanczosRecurrence(
  _ op: SymmetricOperator, start q: [Double], steps: Int,
  stop: (_ alpha: [Double], _ beta: [Double], _ lastBeta: Double) throws -> Bool = { _, _, _ in false }
) throws -> LanczosTridiagonal {
  let n = op.dimension
  precondition(q.count == n && steps >= 1, "Lanczos needs a start vector of the operator's dimension and at least one step")
  let basis = LanczosBasis(n: n, capacity: steps + 1)
  basis.storage.initialize(from: q, count: n)
  var coefficients = [Double](repeating: 0, count: steps + 1)
  var alpha: [Double] = [], beta: [Double] = []
  var lastBeta = 0.0
  // A step makes few passes over n-vectors (for a large model each is megabytes): the
  // recurrence's dot product doubles as the finiteness check, its update also yields ‖w‖.
  for j in 0..<steps {
    let v = basis.storage + j * n
    var w = op(Array(UnsafeBufferPointer(start: v, count: n)))
    // The three-term recurrence first: w ← w − α·v_j − β_{j−1}·v_{j−1}. It removes the large
    // components of w along the basis while touching only two vectors.
    let a = w.withUnsafeBufferPointer { w in
      var s = 0.0
      for i in 0..<n { s += w[i] * v[i] }
      return s
    }
    // A non-finite entry of w makes the dot product non-finite.
    guard a.isFinite else { throw CurvatureError.nonFinite(iteration: j) }
    alpha.append(a)
    var normSquared = w.withUnsafeMutableBufferPointer { w in
      var s = 0.0
      if j > 0 {
        let previous = v - n, betaPrevious = beta[j - 1]
        for i in 0..<n {
          w[i] -= a * v[i] + betaPrevious * previous[i]
          s += w[i] * w[i]
        }
      } else {
        for i in 0..<n {
          w[i] -= a * v[i]
          s += w[i] * w[i]
        }
      }
      return s
    }
    // Then full reorthogonalization against every basis vector (classical Gram–Schmidt), which
    // removes what rounding left, and once more only when that pass cancelled much of w
    // (‖w‖ fell below 1/√2 of itself: Kahan and Parlett's "twice is enough" test). Each pass
    // sweeps the whole basis twice, which for a large model is far bigger than the caches, so
    // skipping needless second passes halves the cost of a step outside the HVP.
    for _ in 0..<2 {
      let before = normSquared
      w.withUnsafeMutableBufferPointer { w in
        coefficients.withUnsafeMutableBufferPointer { c in
          DoubleBLAS.project(basis.storage, rows: j + 1, n: n, w.baseAddress!, into: c.baseAddress!)
          DoubleBLAS.subtractCombination(basis.storage, rows: j + 1, n: n, c.baseAddress!, from: w.baseAddress!)
        }
      }
      normSquared = dot(w, w)
      if normSquared >= before / 2 { break }
    }
    let bnorm = normSquared.squareRoot()
    lastBeta = bnorm
    if j == steps - 1 { break }
    if j >= 1, try stop(alpha, beta, bnorm) { break }
    // Invariant subspace: the Ritz values are exact eigenvalues of the operator restricted to it.
    if bnorm <= 1e-10 * max(abs(a), 1) { lastBeta = 0; break }
    beta.append(bnorm)
    let inverse = 1 / bnorm, next = v + n
    w.withUnsafeBufferPointer { w in for i in 0..<n { next[i] = w[i] * inverse } }
  }
  return LanczosTridiagonal(alpha: alpha, beta: Array(beta.prefix(alpha.count - 1)), lastBeta: lastBeta, basis: basis)
}

/// A seeded Gaussian unit vector (Lanczos's start).
func randomUnitVector(_ n: Int, seed: UInt64) -> [Double] {
  var rng = SplitMix64(seed: seed)
  var q = (0..<n).map { _ in rng.nextNormal() }
  scale(&q, by: 1 / norm(q))
  return q
}

/// The k eigenvalues at one end of the spectrum of a symmetric operator (`which`: the largest
/// algebraic by default) by Lanczos with full reorthogonalization (`lanczosRecurrence`). Vectors
/// are Float64; the tridiagonal eigenproblem is solved by LAPACK's dsteqr. The start vector is
/// Gaussian, fixed by `seed`. The residual of Ritz pair j is ‖A·x_j − θ_j·x_j‖ computed
/// explicitly with one more operator application per pair (`explicitResiduals`), or else the
/// Lanczos estimate |β_m·s_{m,j}| (s_j the eigenvector of T_m), which assumes exact arithmetic.
///
/// With a `tolerance`, iteration stops early once every one of the k Lanczos residual estimates
/// |β_j·s_{j,r}| is at most `tolerance`·|θ_r| (checked from iteration k + 2 on, by solving the small
/// tridiagonal problem each step). A Ritz value whose residual is r lies within r of an
/// eigenvalue (and within r²/gap once separated), so 1e-3 pins λ1 far below anything a plot or a
/// λ1·η/2 check can see; the explicit residual is still reported.
public func lanczos(
  _ op: SymmetricOperator, iterations m: Int, topK k: Int = 1, which: SpectrumEnd = .largest, seed: UInt64 = 0,
  explicitResiduals: Bool = true, tolerance: Double? = nil
) throws -> LanczosResult {
  let n = op.dimension
  precondition(k >= 1 && m >= k, "Lanczos needs iterations ≥ k ≥ 1")
  let run = try lanczosRecurrence(op, start: randomUnitVector(n, seed: seed), steps: min(m, n)) { alpha, beta, bnorm in
    guard let tolerance, alpha.count >= k + 2 else { return false }
    return try converged(alpha: alpha, beta: beta, lastBeta: bnorm, k: k, which: which, tolerance: tolerance)
  }
  let taken = run.alpha.count
  if taken < k { throw CurvatureError.breakdown(iteration: taken, requested: k) }
  let (values, vectors) = try LAPACK.symmetricTridiagonalEigen(diagonal: run.alpha, offDiagonal: run.beta)
  var pairs: [RitzPair] = []
  for j in which.select(values, k: k) {
    let s = Array(vectors[(j * taken)..<((j + 1) * taken)])
    var residual = abs(run.lastBeta * s[taken - 1])
    if explicitResiduals {
      // x = Qᵀs, then ‖A·x − θ·x‖ with one more operator application: honest even when the
      // operator is only approximately linear and symmetric (a Float32 HVP).
      var x = [Double](repeating: 0, count: n)
      s.withUnsafeBufferPointer { s in
        x.withUnsafeMutableBufferPointer { x in
          DoubleBLAS.subtractCombination(run.basis.storage, rows: taken, n: n, s.baseAddress!, from: x.baseAddress!)
        }
      }
      scale(&x, by: -1 / norm(x))
      var ax = op(x)
      guard ax.allSatisfy({ $0.isFinite }) else { throw CurvatureError.nonFinite(iteration: taken) }
      axpy(-values[j], x, &ax)
      residual = norm(ax)
    }
    pairs.append(RitzPair(value: values[j], residual: residual))
  }
  return LanczosResult(eigenpairs: pairs, iterations: taken)
}

/// λ1 with the residual it states: Lanczos stops once its residual estimate is within
/// `tolerance`·|θ1|, then the explicit residual ‖H·x − θ1·x‖ is checked against the same bound.
/// The estimate assumes exact arithmetic; with a Float32 HVP it can be optimistic (seen: an
/// explicit residual 4.7× the stated bound), so when the explicit one misses, Lanczos runs again
/// from the same start with a ten times tighter estimate and up to `maxIterations` steps.
/// `converged` says whether the returned λ1 meets the bound; when it does not, the caller must
/// report it as unconverged.
public func lanczosToTolerance(
  _ op: SymmetricOperator, iterations m: Int, maxIterations: Int, tolerance: Double, seed: UInt64 = 0
) throws -> (result: LanczosResult, converged: Bool) {
  precondition(tolerance > 0 && m >= 1, "Lanczos needs a positive tolerance and at least one iteration")
  func meets(_ r: LanczosResult) -> Bool { r.eigenpairs[0].residual <= tolerance * abs(r.top) }
  let first = try lanczos(op, iterations: min(m, op.dimension), seed: seed, tolerance: tolerance)
  if meets(first) || first.iterations >= min(maxIterations, op.dimension) { return (first, meets(first)) }
  let second = try lanczos(op, iterations: min(max(maxIterations, m), op.dimension), seed: seed, tolerance: tolerance / 10)
  return (second, meets(second))
}

/// Whether the k Ritz values of T_j (diagonal `alpha`, off-diagonal `beta`) at `which` end
/// have Lanczos residual estimates |β_j·s_{j,r}| within `tolerance`·|θ_r|.
private func converged(alpha: [Double], beta: [Double], lastBeta: Double, k: Int, which: SpectrumEnd, tolerance: Double) throws -> Bool {
  let t = alpha.count
  let (values, vectors) = try LAPACK.symmetricTridiagonalEigen(diagonal: alpha, offDiagonal: Array(beta.prefix(t - 1)))
  for j in which.select(values, k: k) where abs(lastBeta * vectors[j * t + t - 1]) > tolerance * abs(values[j]) {
    return false
  }
  return true
}

/// The eigenvalue of largest magnitude by power iteration: an independent cross-check of
/// Lanczos (it agrees with λ1 when λ1 dominates |λmin|). Stops when the Rayleigh quotient's
/// residual falls below `tolerance`·|θ|.
public func powerIteration(
  _ op: SymmetricOperator, maxIterations: Int = 1000, tolerance: Double = 1e-8, seed: UInt64 = 0
) throws -> (pair: RitzPair, iterations: Int) {
  var rng = SplitMix64(seed: seed)
  var x = (0..<op.dimension).map { _ in rng.nextNormal() }
  scale(&x, by: 1 / norm(x))
  var theta = 0.0, residual = Double.infinity
  for i in 1...max(maxIterations, 1) {
    let y = op(x)
    guard y.allSatisfy({ $0.isFinite }) else { throw CurvatureError.nonFinite(iteration: i) }
    theta = dot(x, y)
    var r = y
    axpy(-theta, x, &r)
    residual = norm(r)
    if residual <= tolerance * abs(theta) { return (RitzPair(value: theta, residual: residual), i) }
    let ny = norm(y)
    if ny == 0 { return (RitzPair(value: 0, residual: 0), i) }
    x = y
    scale(&x, by: 1 / ny)
  }
  return (RitzPair(value: theta, residual: residual), maxIterations)
}

// MARK: - Float64 vector helpers

@inline(__always) func dot(_ a: [Double], _ b: [Double]) -> Double {
  a.withUnsafeBufferPointer { a in
    b.withUnsafeBufferPointer { b in
      var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
      let n = a.count, n4 = n & ~3
      var i = 0
      while i < n4 {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1]; s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3]
        i += 4
      }
      while i < n { s0 += a[i] * b[i]; i += 1 }
      return (s0 + s1) + (s2 + s3)
    }
  }
}

@inline(__always) func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }

@inline(__always) func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
  x.withUnsafeBufferPointer { x in
    y.withUnsafeMutableBufferPointer { y in for i in 0..<y.count { y[i] += alpha * x[i] } }
  }
}

@inline(__always) func scale(_ x: inout [Double], by s: Double) {
  x.withUnsafeMutableBufferPointer { x in for i in 0..<x.count { x[i] *= s } }
}

/// The k eigenvalues at `which` end, each to a stated tolerance: Lanczos (`lanczos`) runs with
/// `iterations` steps, stopping early once its residual estimates meet `tolerance`; when an
/// explicit residual ‖H·x − θ·x‖ still exceeds `tolerance`·|θ| (the estimate assumes exact
/// arithmetic, and a clustered end needs more steps), it runs again from the same start with
/// twice the steps and a ten times tighter estimate, up to `maxIterations`. A Ritz value with
/// residual r lies within r of an eigenvalue, so a tolerance of 10⁻⁴ gives 4 significant digits.
/// Each returned pair says whether it met the bound.
public func eigenpairsToTolerance(
  _ op: SymmetricOperator, k: Int, which: SpectrumEnd = .largest, tolerance: Double, iterations m: Int, maxIterations: Int,
  seed: UInt64 = 0
) throws -> (result: LanczosResult, converged: [Bool], passes: Int) {
  precondition(k >= 1 && tolerance > 0 && m >= 1 && maxIterations >= 1, "eigenpairsToTolerance: k, tolerance and iterations must be positive")
  let limit = min(max(maxIterations, k), op.dimension)
  var steps = min(max(m, k + 2), limit), estimate = tolerance, passes = 0
  while true {
    passes += 1
    let r = try lanczos(op, iterations: steps, topK: min(k, op.dimension), which: which, seed: seed, tolerance: estimate)
    let ok = r.eigenpairs.map { $0.residual <= tolerance * abs($0.value) }
    if ok.allSatisfy({ $0 }) || steps >= limit {
      return (r, ok, passes)
    }
    steps = min(2 * steps, limit)
    estimate /= 10
  }
}
