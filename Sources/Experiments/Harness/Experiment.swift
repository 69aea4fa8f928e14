import Foundation
import ML
import Plotting

/// What a run sees of the sweep: its scale, where optional data live, and a progress hook.
public struct RunContext: Sendable {
  public let scale: ExperimentScale
  public let dataDirectory: String?
  /// Called with (step, loss) as training proceeds.
  public let progress: @Sendable (Int, Int, Double) -> Void
  /// Where the run keeps its checkpoints at each curvature measurement (`--save-checkpoints`),
  /// or nil.
  public let checkpointDirectory: String?

  public init(scale: ExperimentScale, dataDirectory: String?, checkpointDirectory: String? = nil,
              progress: @escaping @Sendable (Int, Int, Double) -> Void = { _, _, _ in }) {
    self.scale = scale
    self.dataDirectory = dataDirectory
    self.checkpointDirectory = checkpointDirectory
    self.progress = progress
  }
}

/// One experiment: a paper figure or table, as data. Its settings per scale derive from one
/// base by overriding a few fields; its sweep is a list of runs, each keyed by its resolved
/// configuration; its figure, table and claims are pure functions of the stored results.
public protocol Experiment: Sendable {
  associatedtype Settings: Overridable & Codable & Hashable & Sendable
  associatedtype Run: Codable & Hashable & Sendable
  associatedtype Outcome: Codable & Sendable
  associatedtype FigureData: Codable & Sendable

  var id: String { get }
  /// The sweep whose runs this experiment reads: experiments that draw different figures from
  /// the same runs (Figs 1–3 from the stability sweep) share it, so each run trains once.
  var sweepID: String { get }
  var title: String { get }
  /// The paper's figure or table, e.g. "Fig 2, Figs 9–12".
  var paperReference: String { get }
  /// Bumped when the code that produces outcomes changes meaning, so old results are not reused.
  var resultsVersion: Int { get }
  /// Measured wall time on 2 cores (seconds), for `repro list`; nil where unmeasured.
  func estimatedSeconds(_ scale: ExperimentScale) -> Double?

  func settings(for scale: ExperimentScale, seed: UInt64) -> Settings
  /// Throws a readable error for settings no run can train with (after `--set` overrides).
  func validate(_ settings: Settings) throws
  func runs(_ settings: Settings) -> [Run]
  /// Runs chosen from the stored results of `runs` by a stated rule (Fig 3's lettered runs,
  /// traced in detail): trained once every run of `runs` is stored, keyed like any other run.
  func followUpRuns(_ settings: Settings, results: [(run: Run, outcome: Outcome)]) -> [Run]
  /// How many times `followUpRuns` is asked again, each time with the results of the follow-up
  /// runs so far as well (an adaptive search: fig6 walks each η grid down one run per round).
  /// With more than one round, `followUpRuns` must list every follow-up chosen before as well
  /// as the new ones; the rounds end early when it chooses nothing new. Default 1.
  func followUpRounds(_ settings: Settings) -> Int
  func label(_ run: Run) -> String
  func execute(_ run: Run, settings: Settings, context: RunContext) throws -> Outcome
  /// One line for the progress log.
  func summarize(_ outcome: Outcome) -> String

  func figureData(settings: Settings, results: [(run: Run, outcome: Outcome)]) -> FigureData
  func claims(_ data: FigureData) -> [ClaimOutcome]
  func figure(_ data: FigureData, caption: String) -> Figure
  /// Further figures drawn from the same data (Fig 2's performance-vs-η companion, the paper's
  /// Figs 9–12), each written as `figures/<id>-<suffix>.png|svg`.
  func additionalFigures(_ data: FigureData, caption: String) -> [(suffix: String, figure: Figure)]
  func table(_ data: FigureData) -> String
  /// Differences from golden data beyond the stated tolerances (empty: no drift).
  func drift(_ data: FigureData, golden: FigureData) -> [String]
}

extension Experiment {
  public var sweepID: String { id }
  public func validate(_ settings: Settings) throws {}
  public func followUpRuns(_ settings: Settings, results: [(run: Run, outcome: Outcome)]) -> [Run] { [] }
  public func followUpRounds(_ settings: Settings) -> Int { 1 }
  public func additionalFigures(_ data: FigureData, caption: String) -> [(suffix: String, figure: Figure)] { [] }
}

/// A stored run: the outcome and how long it took.
public struct StoredRun<Outcome: Codable & Sendable>: Codable, Sendable {
  public var outcome: Outcome
  public var seconds: Double
  public var blasThreads: Int
}

/// What `repro <id>` and `repro render` write, beside the figure.
public struct ExperimentReport<FigureData: Codable & Sendable>: Codable, Sendable {
  public var experiment: String
  public var title: String
  public var paperReference: String
  public var scale: ExperimentScale
  public var runsPresent: Int
  public var runsTotal: Int
  /// Sum of the stored runs' training times.
  public var computeSeconds: Double
  public var claims: [ClaimOutcome]
  public var data: FigureData
  /// The command that made these outputs, overrides included (absent in older files).
  public var command: String?
  /// The `--set` overrides, when there were any.
  public var overrides: [String]?
}
