import Foundation
import Plotting

/// Writes an experiment's outputs: `figures/<id>.png|svg` (and `figures/<id>-<suffix>.png|svg`
/// for each of its additional figures), `figures/data/<id>.json` (exactly
/// the numbers drawn, with the claims), `tables/<id>.md`, and its generated section of
/// `REPRODUCE.md` (between markers, so the hand-written parts of the file stay).
public struct OutputWriter {
  public let root: String

  public init(root: String) { self.root = root }

  func ensure(_ dir: String) throws {
    do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
      throw HarnessError.unwritable(dir, reason: error.localizedDescription)
    }
  }

  /// Writes under `name` (the experiment's id, or a custom name for overridden settings).
  /// Unless `force`, refuses to draw a figure from no runs, or to replace stored outputs of
  /// `name` that were drawn from more runs (`render` at the wrong scale, a partial store).
  public func write<E: Experiment>(report: ExperimentReport<E.FigureData>, experiment: E, name: String? = nil,
                                   force: Bool = false) throws -> [String] {
    let name = name ?? report.experiment
    let figures = root + "/figures", data = figures + "/data", tables = root + "/tables"
    let jsonPath = data + "/\(name).json"
    if !force {
      if report.runsPresent == 0 {
        throw HarnessError.nothingStored(experiment: report.experiment, scale: report.scale.rawValue, results: root + "/results")
      }
      if let existing = Self.storedSummary(at: jsonPath), existing.runsPresent > report.runsPresent {
        throw HarnessError.wouldShrink(
          path: jsonPath, existing: "\(existing.runsPresent) of \(existing.runsTotal) runs at \(existing.scale.rawValue) scale",
          new: "\(report.runsPresent) of \(report.runsTotal) runs at \(report.scale.rawValue) scale")
      }
    }
    try ensure(data)
    try ensure(tables)
    let caption = "\(report.scale.rawValue) scale · \(report.runsPresent)/\(report.runsTotal) runs · \(Provenance.commit)"
    var written = try experiment.figure(report.data, caption: caption).write(basePath: figures + "/" + name)
    let extra = experiment.additionalFigures(report.data, caption: caption)
    for (suffix, figure) in extra {
      written += try figure.write(basePath: figures + "/\(name)-\(suffix)")
    }
    try ResultStore.writeAtomically(try ResultCoding.encoder().encode(report), to: URL(fileURLWithPath: jsonPath))
    written.append(jsonPath)
    let tablePath = tables + "/\(name).md"
    let command = report.command.map { "Command: `\($0)`\n\n" } ?? ""
    let table = "# \(report.title) (\(report.paperReference)), \(report.scale.rawValue) scale\n\n" + command + experiment.table(report.data) + "\n"
    try ResultStore.writeAtomically(Data(table.utf8), to: URL(fileURLWithPath: tablePath))
    written.append(tablePath)
    let reproducePath = root + "/REPRODUCE.md"
    try updateReproduce(at: reproducePath, id: name, section: reproduceSection(report, name: name, extraFigures: extra.map(\.suffix)))
    written.append(reproducePath)
    return written
  }

  func reproduceSection<D>(_ r: ExperimentReport<D>, name: String? = nil, extraFigures: [String] = []) -> String {
    let name = name ?? r.experiment
    let flag = r.scale == .small ? "--small" : r.scale == .tiny ? "--scale tiny" : ""
    let command = r.command ?? "swift run -c release repro \(r.experiment)\(flag.isEmpty ? "" : " " + flag)"
    let held = r.claims.filter(\.holds).count
    // The main figure, then each additional one beneath it.
    let images = ([name] + extraFigures.map { "\(name)-\($0)" })
      .map { "![\($0)](figures/\($0).png)" }.joined(separator: "\n\n")
    let custom = name == r.experiment ? "" : " — custom settings: \((r.overrides ?? []).joined(separator: ", "))"
    var s = """
      ## \(name): \(r.title) (paper: \(r.paperReference))\(custom)

      Command: `\(command)` · scale **\(r.scale.rawValue)** · \
      \(r.runsPresent) of \(r.runsTotal) runs · compute \(Self.duration(r.computeSeconds)) (sum of run times on 2 cores)

      \(images)

      Claims: \(held) of \(r.claims.count) hold at this scale.

      """
    s += "\n" + markdownTable(
      headers: ["claim", "the paper", "our check", "measured", "holds"],
      rows: r.claims.map { [$0.id, $0.statement, $0.check, $0.measured, $0.holds ? "yes" : "**no**"] })
    s += "\n\nData: `figures/data/\(name).json` · table: `tables/\(name).md`\n"
    return s
  }

  /// The run counts of outputs already written at `path` (nil when absent or unreadable).
  static func storedSummary(at path: String) -> (runsPresent: Int, runsTotal: Int, scale: ExperimentScale)? {
    struct Summary: Decodable { var runsPresent: Int; var runsTotal: Int; var scale: ExperimentScale }
    guard let d = try? Data(contentsOf: URL(fileURLWithPath: path)), let s = try? ResultCoding.decoder().decode(Summary.self, from: d) else { return nil }
    return (s.runsPresent, s.runsTotal, s.scale)
  }

  static func duration(_ s: Double) -> String {
    s < 90 ? String(format: "%.0f s", s) : s < 5400 ? String(format: "%.1f min", s / 60) : String(format: "%.1f h", s / 3600)
  }

  /// Replaces (or appends) the block between `<!-- BEGIN id -->` and `<!-- END id -->`.
  func updateReproduce(at path: String, id: String, section: String) throws {
    let begin = "<!-- BEGIN \(id) -->", end = "<!-- END \(id) -->"
    var text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "# Reproducing the paper\n\nGenerated sections below are rewritten by each `repro <experiment>` run.\n"
    let block = begin + "\n" + section + end
    if let b = text.range(of: begin), let e = text.range(of: end), b.lowerBound < e.lowerBound {
      text.replaceSubrange(b.lowerBound..<e.upperBound, with: block)
    } else {
      text += "\n" + block + "\n"
    }
    try ResultStore.writeAtomically(Data(text.utf8), to: URL(fileURLWithPath: path))
  }
}

/// Where the outputs came from: the git commit when the tree is a git checkout.
public enum Provenance {
  public static let commit: String = {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    p.arguments = ["rev-parse", "--short", "HEAD"]
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return "commit unknown" }
    p.waitUntilExit()
    let s = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    return p.terminationStatus == 0 && !s.isEmpty ? "commit \(s)" : "commit unknown"
  }()
}
