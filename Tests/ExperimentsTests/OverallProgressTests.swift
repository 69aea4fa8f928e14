import Foundation
import Testing
@testable import Experiments

@Suite("repro all: overall progress and closing summary")
struct OverallProgressTests {
  let t0 = Date(timeIntervalSince1970: 1_000_000)

  @Test func etaIsTheEstimatesLeftScaledByHowTheFinishedOnesRan() {
    let o = OverallProgress([.init(id: "a", estimate: 100), .init(id: "b", estimate: 200), .init(id: "c", estimate: 300)])
    o.begin(0, at: t0)
    // Nothing finished: estimates as they are; 40 s into a's 100.
    #expect(o.remaining(now: t0.addingTimeInterval(40)) == 60 + 500)
    // a took 150 s (1.5× its estimate): b and c are scaled by 1.5.
    o.end(0, seconds: 150)
    o.begin(1, at: t0)
    #expect(o.remaining(now: t0.addingTimeInterval(100)) == (300 - 100) + 450)
    // Past its estimate, the running experiment's share is what its runs' progress says:
    // 400 s for half of its runs, 400 s to go.
    #expect(o.remaining(done: 0.5, now: t0.addingTimeInterval(400)) == 400 + 450)
    #expect(o.prefix(done: 0.5, now: t0.addingTimeInterval(400)) == "[all 2/3 b · ETA 14 min]")
  }

  @Test func unmeasuredExperimentsCountAsTheMeanOfTheMeasured() {
    let o = OverallProgress([.init(id: "a", estimate: 10), .init(id: "b", estimate: nil), .init(id: "c", estimate: 30)])
    o.begin(0, at: t0)
    #expect(o.remaining(now: t0) == 10 + 20 + 30)
    #expect(OverallProgress.duration(45) == "45 s" && OverallProgress.duration(720) == "12 min" && OverallProgress.duration(5400) == "1.5 h")
  }

  @Test func progressLinesCarryTheOverallPosition() {
    let o = OverallProgress([.init(id: "fig1", estimate: 60), .init(id: "fig2", estimate: 60)])
    o.begin(1)
    let p = ProgressReporter(total: 4, quiet: true, overall: o, interactive: false)
    p.current[0] = ("run-a", 9, 100, 0.5)
    #expect(p.progressLine().hasPrefix("[all 2/2 fig2 · ETA "))
    #expect(p.progressLine().contains("[0/4] run-a step 10/100 loss 0.5"))
    #expect(ProgressReporter(total: 1, quiet: true, interactive: false).overallPrefix() == "")
  }

  @Test func theClosingSummaryListsEveryVerdictAndEachFileOnce() {
    func summary(_ id: String, _ holds: [Bool]) -> RunSummary {
      RunSummary(experiment: id, runsTotal: 2, runsPresent: 2, runsTrained: 1, wallSeconds: 5,
                 claims: holds.enumerated().map { ClaimOutcome(id: "C\($0.offset)", statement: "", check: "", holds: $0.element, measured: "") },
                 written: ["figures/\(id).png", "figures/\(id).svg", "figures/data/\(id).json", "tables/\(id).md", "REPRODUCE.md"])
    }
    let text = RunSummary.closing([summary("fig1", [true, false]), summary("fig2", [true])], seconds: 125)
    #expect(text.contains("repro all: 2 experiments, 2 runs trained now, 2 min"))
    #expect(text.contains("claims: 2 of 3 hold at this scale"))
    #expect(text.contains("  fig1: C0 holds, C1 does not hold") && text.contains("  fig2: C0 holds"))
    #expect(text.contains("files written (9):") && text.components(separatedBy: "REPRODUCE.md").count == 2)
    #expect(text.contains("  figures/fig2.svg") && text.contains("  figures/data/fig1.json"))
  }
}
