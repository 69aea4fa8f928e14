/// The three presets every experiment derives from its base configuration (SPEC.md): `tiny`
/// for tests and the CI regression, `small` for the committed figures (each experiment ≲ 10 min
/// on 2 cores), `full` for the paper's settings where feasible.
public enum ExperimentScale: String, CaseIterable, Codable, Sendable {
  case tiny, small, full
}

/// The outcome of one of the paper's claims, checked over an experiment's own results.
public struct ClaimOutcome: Codable, Sendable, Hashable {
  /// "C1", "C2", …
  public var id: String
  /// What the paper states.
  public var statement: String
  /// How we test it here, including the tolerance.
  public var check: String
  public var holds: Bool
  /// The measured numbers behind the verdict.
  public var measured: String

  public init(id: String, statement: String, check: String, holds: Bool, measured: String) {
    self.id = id
    self.statement = statement
    self.check = check
    self.holds = holds
    self.measured = measured
  }
}
