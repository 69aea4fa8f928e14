import Foundation
import Plotting

/// The result of comparing an experiment's tiny-scale data with its golden data.
public struct CheckResult: Sendable {
  public var experiment: String
  public var drift: [String]
  public var recorded: Bool
  public var claims: [ClaimOutcome]
  public var seconds: Double
}

/// An experiment behind one concrete type, for the registry and the command line.
public struct AnyExperiment: Sendable {
  public let id: String
  public let title: String
  public let paperReference: String
  public let validKeys: [String]
  let estimate: @Sendable (ExperimentScale) -> Double?
  let runBody: @Sendable (RunOptions) throws -> RunSummary
  let renderBody: @Sendable (RunOptions) throws -> RunSummary
  let checkBody: @Sendable (RunOptions, String, Bool) throws -> CheckResult
  let figuresBody: @Sendable (Data) throws -> [(name: String, figure: Figure)]

  public init<E: Experiment>(_ e: E) {
    id = e.id
    title = e.title
    paperReference = e.paperReference
    validKeys = E.Settings.fields.map(\.name).sorted()
    estimate = { e.estimatedSeconds($0) }
    runBody = { try ExperimentRunner(e, options: $0).run() }
    renderBody = { try ExperimentRunner(e, options: $0).render() }
    checkBody = { options, goldenDirectory, record in
      try GoldenCheck.check(e, options: options, goldenDirectory: goldenDirectory, record: record)
    }
    figuresBody = { json in
      let report = try ResultCoding.decoder().decode(ExperimentReport<E.FigureData>.self, from: json)
      return [(e.id, e.figure(report.data, caption: "check"))]
        + e.additionalFigures(report.data, caption: "check").map { ("\(e.id)-\($0.suffix)", $0.figure) }
    }
  }

  /// Every figure of the experiment drawn from a written `figures/data/<id>.json` (or golden
  /// file), by name: for layout checks on real figures.
  public func figures(fromReport json: Data) throws -> [(name: String, figure: Figure)] { try figuresBody(json) }

  public func estimatedSeconds(_ scale: ExperimentScale) -> Double? { estimate(scale) }
  public func run(_ options: RunOptions) throws -> RunSummary { try runBody(options) }
  public func render(_ options: RunOptions) throws -> RunSummary { try renderBody(options) }
  public func check(_ options: RunOptions, goldenDirectory: String, record: Bool) throws -> CheckResult {
    try checkBody(options, goldenDirectory, record)
  }
}

public enum ExperimentRegistry {
  /// Every experiment, in the order `repro all` runs them.
  public static let all: [AnyExperiment] = [AnyExperiment(Fig1()), AnyExperiment(Fig2()), AnyExperiment(Fig3()), AnyExperiment(Fig4()), AnyExperiment(Fig5()), AnyExperiment(Fig6()), AnyExperiment(Fig14()), AnyExperiment(Table1()), AnyExperiment(Table2())]

  public static func named(_ id: String) throws -> AnyExperiment {
    guard let e = all.first(where: { $0.id == id }) else {
      throw HarnessError.unknownExperiment(id, known: all.map(\.id))
    }
    return e
  }
}

/// `repro check`: runs an experiment at tiny scale from scratch and compares its figure data
/// with committed golden data within the experiment's stated tolerances. A missing golden file
/// is recorded and reported as a failure (as snapshot tests do); `record` re-records.
public enum GoldenCheck {
  public static func check<E: Experiment>(_ e: E, options: RunOptions, goldenDirectory: String, record: Bool) throws -> CheckResult {
    let start = Date()
    var o = options
    o.scale = .tiny
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("repro-check-\(e.id)-\(getpid())").path
    try? FileManager.default.removeItem(atPath: scratch)
    o.outDirectory = scratch
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    _ = try ExperimentRunner(e, options: o).run()
    let produced = try Data(contentsOf: URL(fileURLWithPath: scratch + "/figures/data/\(e.id).json"))
    let report = try ResultCoding.decoder().decode(ExperimentReport<E.FigureData>.self, from: produced)
    let goldenPath = goldenDirectory + "/\(e.id).json"
    var drift: [String] = []
    var recorded = false
    if !record, let golden = try? Data(contentsOf: URL(fileURLWithPath: goldenPath)) {
      do {
        let g = try ResultCoding.decoder().decode(ExperimentReport<E.FigureData>.self, from: golden)
        drift = e.drift(report.data, golden: g.data)
      } catch {
        drift = ["\(goldenPath) is unreadable (\(error.localizedDescription)); re-record with RECORD=1"]
      }
    } else {
      try? FileManager.default.createDirectory(atPath: goldenDirectory, withIntermediateDirectories: true)
      try ResultStore.writeAtomically(produced, to: URL(fileURLWithPath: goldenPath))
      recorded = true
      if !record { drift = ["no golden data at \(goldenPath): recorded it; commit it and run again"] }
    }
    return CheckResult(experiment: e.id, drift: drift, recorded: recorded, claims: report.claims,
                       seconds: Date().timeIntervalSince(start))
  }
}
