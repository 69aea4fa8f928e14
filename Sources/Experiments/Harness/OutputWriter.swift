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

  public func write<E: Experiment>(report: ExperimentReport<E.FigureData>, experiment: E) throws -> [String] {
    let figures = root + "/figures", data = figures + "/data", tables = root + "/tables"
    try ensure(data)
    try ensure(tables)
    let caption = "\(report.scale.rawValue) scale · \(report.runsPresent)/\(report.runsTotal) runs · \(Provenance.commit)"
    var written = try experiment.figure(report.data, caption: caption).write(basePath: figures + "/" + report.experiment)
    let extra = experiment.additionalFigures(report.data, caption: caption)
    for (suffix, figure) in extra {
      written += try figure.write(basePath: figures + "/\(report.experiment)-\(suffix)")
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let jsonPath = data + "/\(report.experiment).json"
    try ResultStore.writeAtomically(try encoder.encode(report), to: URL(fileURLWithPath: jsonPath))
    written.append(jsonPath)
    let tablePath = tables + "/\(report.experiment).md"
    let table = "# \(report.title) (\(report.paperReference)), \(report.scale.rawValue) scale\n\n" + experiment.table(report.data) + "\n"
    try ResultStore.writeAtomically(Data(table.utf8), to: URL(fileURLWithPath: tablePath))
    written.append(tablePath)
    let reproducePath = root + "/REPRODUCE.md"
    try updateReproduce(at: reproducePath, id: report.experiment, section: reproduceSection(report, extraFigures: extra.map(\.suffix)))
    written.append(reproducePath)
    return written
  }

  func reproduceSection<D>(_ r: ExperimentReport<D>, extraFigures: [String] = []) -> String {
    let flag = r.scale == .small ? "--small" : r.scale == .tiny ? "--scale tiny" : ""
    let held = r.claims.filter(\.holds).count
    // The main figure, then each additional one beneath it.
    let images = ([r.experiment] + extraFigures.map { "\(r.experiment)-\($0)" })
      .map { "![\($0)](figures/\($0).png)" }.joined(separator: "\n\n")
    var s = """
      ## \(r.experiment): \(r.title) (paper: \(r.paperReference))

      Command: `swift run -c release repro \(r.experiment)\(flag.isEmpty ? "" : " " + flag)` · scale **\(r.scale.rawValue)** · \
      \(r.runsPresent) of \(r.runsTotal) runs · compute \(Self.duration(r.computeSeconds)) (sum of run times on 2 cores)

      \(images)

      Claims: \(held) of \(r.claims.count) hold at this scale.

      """
    s += "\n" + markdownTable(
      headers: ["claim", "the paper", "our check", "measured", "holds"],
      rows: r.claims.map { [$0.id, $0.statement, $0.check, $0.measured, $0.holds ? "yes" : "**no**"] })
    s += "\n\nData: `figures/data/\(r.experiment).json` · table: `tables/\(r.experiment).md`\n"
    return s
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
