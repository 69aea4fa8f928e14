import Foundation

/// The paper's claims C1–C4 as checks over the stability sweep's own points. Each check and its
/// tolerance were fixed from the paper's words before the small-scale runs were looked at.
public enum StabilityClaims {
  /// "λ1 ≲ 2/η … (or fluctuate just above this bound)": a successful run's mid-training λ1
  /// counts as within when λ1·η_t/2 ≤ 1.2 (just above: up to 20 %).
  public static let c1Tolerance = 1.2
  /// C1 holds when at least this fraction of the successful runs' mid-training measurements is
  /// within the tolerance ("primarily resides in a region …").
  public static let c1Fraction = 0.9

  public static func all(_ d: Fig2Data) -> [ClaimOutcome] {
    [c1(d), c2(d), c2b(d), c3(d), c4(d.points)]
  }

  static func fmt(_ x: Double) -> String { String(format: "%.3g", x) }

  static func median(_ xs: [Double]) -> Double { quantile(sorted: xs.sorted(), 0.5) ?? .nan }

  // MARK: C1

  public static func c1(_ d: Fig2Data) -> ClaimOutcome {
    let beta = d.momentumBound.c / 2
    let trained = d.points.filter { $0.status == .trained }
    let ratios = trained.flatMap { $0.lambdaMid.map(\.ratio) }
    let within = ratios.filter { $0 <= c1Tolerance }.count
    let belowOne = ratios.filter { $0 <= 1 }.count
    let momentum = ratios.filter { $0 <= beta }.count
    let fraction = ratios.isEmpty ? 0 : Double(within) / Double(ratios.count)
    let failed = d.points.filter { $0.status.failed }
    let measured = failed.compactMap { p in p.lambdaBeforeFailure.map { (p, $0) } }
    let above = measured.filter { $0.1.ratio > 1 }
    let gaps = measured.compactMap { p, l in p.failureStep.map { Double($0 - l.step) } }
    var text = "\(within) of \(ratios.count) mid-training measurements (steps \(d.midSteps.map(String.init).joined(separator: ", "))) of \(trained.count) trained runs within λ1·η_t/2 ≤ \(fmt(c1Tolerance)) (\(String(format: "%.0f", 100 * fraction)) %), \(belowOne) at or below 2/η_t, \(momentum) within the momentum bound \(d.momentumBound.label)"
    if let worst = ratios.max() { text += ", worst \(fmt(worst))" }
    text += "; failed runs: \(above.count) of \(measured.count) above 2/η_t at their last measurement before failing, a median \(fmt(median(gaps))) steps before it"
    let unmeasured = failed.count - measured.count
    if unmeasured > 0 { text += " (\(unmeasured) failed before any measurement)" }
    return ClaimOutcome(
      id: "C1", statement: "Successful training occurs only when optimization enters a region where λ1 ≲ 2/η (or fluctuates just above this bound); divergent models are outside it shortly before diverging.",
      check: "trained runs: at least \(Int(100 * c1Fraction)) % of their mid-training λ1 with λ1·η_t/2 ≤ \(fmt(c1Tolerance)), η_t the rate at the measured step; failed runs (diverged or collapsed): the fraction above 2/η_t at the last measurement before failing, and how long before (reported)",
      holds: !ratios.isEmpty && fraction >= c1Fraction, measured: text)
  }

  // MARK: Boundaries (majority over seeds)

  /// The majority outcome of one (row, η, warmup) over its seeds.
  public struct Cell: Sendable {
    public var trained: Int
    public var failed: Int
    public var total: Int
    /// Trained in a strict majority of seeds.
    public var trains: Bool { 2 * trained > total }
    /// Failed (diverged or collapsed) in a strict majority of seeds.
    public var fails: Bool { 2 * failed > total }
  }

  public static func cell(_ points: [StabilityPoint], model: String, eta: Double, warmup: Int) -> Cell? {
    let ps = points.filter { $0.model == model && $0.learningRate == eta && $0.warmup == warmup }
    guard !ps.isEmpty else { return nil }
    return Cell(trained: ps.filter { $0.status == .trained }.count, failed: ps.filter { $0.status.failed }.count, total: ps.count)
  }

  /// The largest η at which the row trains (majority of seeds) and the smallest η above it at
  /// which it fails, with the seeds' agreement, as "η 0.03 (3/3) | fails 0.1 (3/3)".
  public static func boundary(_ points: [StabilityPoint], model: String, warmup: Int) -> (largest: Double?, firstFailing: Double?, text: String) {
    let etas = Set(points.filter { $0.model == model && $0.warmup == warmup }.map(\.learningRate)).sorted()
    let cells = etas.compactMap { e in cell(points, model: model, eta: e, warmup: warmup).map { (e, $0) } }
    let largest = cells.filter { $0.1.trains }.last
    let failing = cells.first { $0.1.fails && $0.0 > (largest?.0 ?? 0) }
    let a = largest.map { "trains up to η = \(fmt($0.0)) (\($0.1.trained)/\($0.1.total) seeds)" } ?? "trains at no η"
    let b = failing.map { "fails at η = \(fmt($0.0)) (\($0.1.failed)/\($0.1.total))" } ?? "fails at no larger η"
    return (largest?.0, failing?.0, "\(a), \(b)")
  }

  // MARK: C2

  /// Per row: median λ1 at initialization and the largest η trained without warmup (0: none).
  static func initialSharpnessAndLargestEta(_ d: Fig2Data) -> [(model: String, lambda: Double, eta: Double)] {
    d.models.compactMap { m in
      let l = d.points.filter { $0.model == m && $0.warmup == 0 }.map(\.lambda0).filter(\.isFinite)
      guard !l.isEmpty else { return nil }
      return (m, median(l), boundary(d.points, model: m, warmup: 0).largest ?? 0)
    }
  }

  /// Kendall's τ over the pairs `include` accepts: (concordant − discordant)/(strictly ordered).
  static func kendall(_ rows: [(model: String, lambda: Double, eta: Double)], include: (String, String) -> Bool)
    -> (concordant: Int, discordant: Int, tau: Double, exceptions: [String])
  {
    var c = 0, dis = 0
    var exceptions: [String] = []
    for i in rows.indices { for j in rows.indices where i < j && include(rows[i].model, rows[j].model) {
      let a = rows[i], b = rows[j]
      let dl = a.lambda - b.lambda, de = a.eta - b.eta
      if dl * de < 0 { c += 1 } else if dl * de > 0 {
        dis += 1
        let (hi, lo) = dl > 0 ? (a, b) : (b, a)
        exceptions.append("\(hi.model) (λ1₀ \(fmt(hi.lambda)), η_max \(fmt(hi.eta))) vs \(lo.model) (\(fmt(lo.lambda)), \(fmt(lo.eta)))")
      }
    } }
    return (c, dis, c + dis > 0 ? Double(c - dis) / Double(c + dis) : .nan, exceptions)
  }

  public static func c2(_ d: Fig2Data) -> ClaimOutcome {
    let rows = initialSharpnessAndLargestEta(d)
    let family = { (m: String) in ModelCatalog.family(m) }
    let lm = { (m: String) in ModelCatalog.isLanguageModel(ModelCatalog.variant(m).id) }
    let within = kendall(rows) { family($0) == family($1) }
    let across = kendall(rows) { family($0) != family($1) && lm($0) == lm($1) }
    let listing = rows.map { "\($0.model) \(fmt($0.lambda))/\($0.eta == 0 ? "trains at no η" : fmt($0.eta))" }.joined(separator: ", ")
    let shown = within.exceptions.prefix(4).joined(separator: "; ") + (within.exceptions.count > 4 ? "; …" : "")
    return ClaimOutcome(
      id: "C2", statement: "Models with higher initial loss curvature tend to diverge at smaller learning rates.",
      check: "variants of one architecture on the same data (init scale, normalization, init method), no warmup: Kendall's τ between median λ1 at init and the largest trained η (majority of seeds; a row that never trains ranks lowest) is positive over at least 3 strictly ordered pairs; across architectures τ is reported as a tendency",
      holds: within.concordant + within.discordant >= 3 && within.tau > 0,
      measured: "within architectures τ = \(String(format: "%.2f", within.tau)) (\(within.concordant) concordant, \(within.discordant) discordant)"
        + (within.exceptions.isEmpty ? "" : ", exceptions: \(shown)")
        + "; across architectures τ = \(String(format: "%.2f", across.tau)) (\(across.concordant)/\(across.discordant)); λ1₀/η_max: \(listing)")
  }

  /// The scaled-up initialization rows (`-x<α>`, α > 1) against their base rows.
  public static func c2b(_ d: Fig2Data) -> ClaimOutcome {
    let rows = Dictionary(initialSharpnessAndLargestEta(d).map { ($0.model, $0) }, uniquingKeysWith: { a, _ in a })
    var results: [(String, Bool)] = []
    for m in d.models {
      let v = ModelCatalog.variant(m)
      guard v.initScale > 1, let scaled = rows[m] else { continue }
      guard let base = rows[v.id], base.eta > 0 else {
        results.append(("\(m) vs \(v.id): the base row never trained without warmup", false))
        continue
      }
      let ok = scaled.lambda > base.lambda && scaled.eta < base.eta
      let eta = scaled.eta == 0 ? "trains at no η" : fmt(scaled.eta)
      results.append(("\(m) vs \(v.id): λ1₀ \(fmt(base.lambda)) → \(fmt(scaled.lambda)), η_max \(fmt(base.eta)) → \(eta)", ok))
    }
    return ClaimOutcome(
      id: "C2b", statement: "Scaling the initialization up by 1.5 results in even higher curvature at initialization and divergence at smaller η.",
      check: "each scaled-init row has a higher median λ1 at init than its base row and a strictly smaller largest trained η without warmup (none counts as smaller)",
      holds: !results.isEmpty && results.allSatisfy(\.1),
      measured: results.isEmpty ? "no scaled-init row in the sweep" : results.map(\.0).joined(separator: "; "))
  }

  // MARK: C3

  /// The η at which `model` trains with `warmup` and fails without it (majority of seeds each).
  public static func rescued(_ points: [StabilityPoint], model: String, warmup: Int) -> [Double] {
    Set(points.filter { $0.model == model && $0.warmup == warmup }.map(\.learningRate)).sorted().filter { eta in
      (cell(points, model: model, eta: eta, warmup: warmup)?.trains ?? false)
        && (cell(points, model: model, eta: eta, warmup: 0)?.fails ?? false)
    }
  }

  public static func c3(_ d: Fig2Data) -> ClaimOutcome {
    let warmups = Set(d.points.map(\.warmup)).filter { $0 > 0 }.sorted()
    func rescue(_ m: String) -> (etas: [Double], warmup: Int)? {
      for w in warmups { let e = rescued(d.points, model: m, warmup: w); if !e.isEmpty { return (e, w) } }
      return nil
    }
    let roles = [d.roles.plain, d.roles.worseInit].filter(d.models.contains)
    var parts: [String] = []
    var holds = !roles.isEmpty
    for m in roles {
      let r = rescue(m)
      if r == nil { holds = false }
      parts.append("\(m): " + (r.map { "warmup \($0.warmup) trains at η = \($0.etas.map(fmt).joined(separator: ", ")) where no warmup fails" } ?? "no η rescued"))
      parts.append("  no warmup \(boundary(d.points, model: m, warmup: 0).text)")
    }
    let others = d.models.filter { !roles.contains($0) }.compactMap { m in rescue(m).map { "\(m) (η \($0.etas.map(fmt).joined(separator: ", ")))" } }
    parts.append("other rows rescued: " + (others.isEmpty ? "none" : others.joined(separator: ", ")))
    return ClaimOutcome(
      id: "C3", statement: "Larger learning rates are possible [for models with high initial curvature] when warmup is used.",
      check: "the plain and the 1.5× roles each train with warmup at some peak η at which they fail without it (majority of seeds on both sides); other rows reported",
      holds: holds, measured: parts.joined(separator: "; "))
  }

  // MARK: C4

  public static func c4(_ points: [StabilityPoint]) -> ClaimOutcome {
    let cases = points.filter { $0.status.failed && $0.lambda0 * $0.learningRate / 2 < 1 }
    return ClaimOutcome(
      id: "C4", statement: "Several models diverge despite starting out in a region where λ1 < 2/η.",
      check: "a failed run whose λ1 at init is below 2/η (peak η)",
      holds: !cases.isEmpty,
      measured: cases.isEmpty
        ? "no failed run started below 2/η (of \(points.filter(\.status.failed).count) failed runs)"
        : "\(cases.count) failed runs started below 2/η, e.g. " + cases.prefix(4).map {
          "\($0.model) η = \(fmt($0.learningRate)) w = \($0.warmup): λ1₀·η/2 = \(fmt($0.lambda0 * $0.learningRate / 2)), \($0.status.rawValue)"
            + ($0.failureStep.map { " at step \($0)" } ?? " (its failure step was not recorded)")
        }.joined(separator: "; "))
  }

  // MARK: Drift

  /// Differences from golden points beyond tolerance: same run set and statuses, λ1 at init
  /// within 1 %, mid-training λ1 within 10 %.
  public static func drift(_ a: [StabilityPoint], _ g: [StabilityPoint]) -> [String] {
    func key(_ p: StabilityPoint) -> String { "\(p.model) η=\(p.learningRate) w=\(p.warmup) s=\(p.seed)" }
    var out: [String] = []
    let ga = Dictionary(g.map { (key($0), $0) }, uniquingKeysWith: { x, _ in x })
    let aa = Dictionary(a.map { (key($0), $0) }, uniquingKeysWith: { x, _ in x })
    for k in Set(ga.keys).symmetricDifference(aa.keys).sorted() { out.append("\(k): present in only one of result and golden") }
    for (k, p) in aa.sorted(by: { $0.key < $1.key }) {
      guard let q = ga[k] else { continue }
      if p.status != q.status { out.append("\(k): status \(p.status.rawValue), golden \(q.status.rawValue)") }
      if !close(p.lambda0, q.lambda0, 0.01) { out.append("\(k): λ1 init \(p.lambda0), golden \(q.lambda0) (1 %)") }
      if p.lambdaMid.map(\.step) != q.lambdaMid.map(\.step) { out.append("\(k): mid-training steps differ") }
      for (x, y) in zip(p.lambdaMid, q.lambdaMid) where !close(x.value, y.value, 0.10) {
        out.append("\(k): λ1 at step \(x.step) \(x.value), golden \(y.value) (10 %)")
      }
    }
    return out
  }

  static func close(_ a: Double, _ b: Double, _ rtol: Double) -> Bool {
    (a.isNaN && b.isNaN) || abs(a - b) <= rtol * max(abs(a), abs(b), 1e-12)
  }
}
