import Foundation
import Plotting
import Testing
@testable import Experiments

/// The layout of every real figure, drawn from the committed small-scale data and from the
/// tiny golden data: no legend over a drawn point, no two titles or labels colliding, no blank row.
@Suite("Figure geometry of every experiment")
struct FigureGeometryTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  static let sources = ["figures/data", "Tests/Golden"]

  @Test(arguments: ExperimentRegistry.all.map(\.id))
  func layoutHidesNothing(id: String) throws {
    let e = try ExperimentRegistry.named(id)
    var checked = 0
    for dir in Self.sources {
      let url = Self.root.appendingPathComponent(dir).appendingPathComponent("\(id).json")
      guard let json = try? Data(contentsOf: url) else { continue }
      for (name, fig) in try e.figures(fromReport: json) {
        let g = fig.geometry()
        checked += 1
        // The grid shrinks to what is drawn: at most a part of the last row is left blank.
        let blank = fig.axes.indices.filter { !fig.axes[$0].isVisible }
        #expect(blank.count < fig.cols && blank.allSatisfy { $0 / fig.cols == fig.rows - 1 },
                "\(dir)/\(name): blank cells \(blank) in a \(fig.rows)×\(fig.cols) grid")
        #expect(g.collidingTitles.isEmpty, "\(dir)/\(name): titles collide in panels \(g.collidingTitles)")
        for p in g {
          #expect(p.pointsUnderLegend == 0, "\(dir)/\(name) panel \(p.index): legend over \(p.pointsUnderLegend) drawn points")
          #expect(p.overlappingAnnotations == 0, "\(dir)/\(name) panel \(p.index): \(p.overlappingAnnotations) overlapping labels")
          #expect(p.similarSeries.isEmpty, "\(dir)/\(name) panel \(p.index): series too alike (ΔE*ab): \(p.similarSeries)")
        }
      }
    }
    #expect(checked > 0, "no data for \(id) in \(Self.sources)")
  }
}
