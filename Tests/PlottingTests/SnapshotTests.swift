import Foundation
import Testing
@testable import Plotting

/// Small figures whose SVG output is compared with golden text. Cairo's SVG is deterministic, so any
/// difference is a change in layout or drawing that a person should look at.
@Suite("SVG snapshots")
struct SnapshotTests {
  static func stabilityFigure() -> Figure {
    var fig = Figure(rows: 1, cols: 1, width: 240, height: 190, caption: "scale: test")
    var ax = Axes(title: "λ₁ vs η", x: Axis(scale: .log, label: "η"), y: Axis(scale: .log, label: "λ₁"))
    ax.shade(.aboveInverse(c: 2))
    ax.reference(.inverse(c: 2), label: "2/η")
    ax.scatter(x: [0.001, 0.01, 0.1, 1], y: [10, 30, 60, 50], markers: [.circle, .circle, .cross, .cross], label: "WRN")
    fig[0, 0] = ax
    return fig
  }

  static func twinFigure() -> Figure {
    var fig = Figure(rows: 1, cols: 2, width: 420, height: 170, title: "Twin axes", sharedY: true)
    for c in 0..<2 {
      var ax = Axes(title: c == 0 ? "A" : "B", x: Axis(label: "step"), y: Axis(scale: .log, label: "λ₁"), y2: Axis(label: "η"))
      let steps = (0...10).map(Double.init)
      ax.plot(x: steps, y: steps.map { 50 / (1 + $0) }, label: "λ₁")
      ax.plot(x: steps, y: steps.map { 0.01 * $0 }, color: Palette.orange, style: .dashed, label: "η", side: .right)
      ax.annotate("C", at: .data(x: 5, y: 10, side: .left), bold: true)
      fig[0, c] = ax
    }
    return fig
  }

  static func barsFigure() -> Figure {
    var fig = Figure(rows: 1, cols: 1, width: 200, height: 150)
    var ax = Axes(x: Axis(ticks: [Tick(value: 0, label: "BN"), Tick(value: 1, label: "no BN")]), y: Axis(label: "η"))
    ax.bar(x: [0, 1], heights: [1, 0.2], label: "max η")
    ax.reference(.horizontal(0.5), style: .dotted)
    fig[0, 0] = ax
    return fig
  }

  @Test("stability scatter with 2/η, shading and ✕", arguments: ["stability"])
  func stability(_ name: String) throws {
    try assertSnapshot(String(decoding: try Self.stabilityFigure().svgData(), as: UTF8.self), named: "\(name).svg")
  }

  @Test("two panels, shared log y, twin right axis, dashed line")
  func twin() throws {
    try assertSnapshot(String(decoding: try Self.twinFigure().svgData(), as: UTF8.self), named: "twin.svg")
  }

  @Test("bars with category ticks and a dotted horizontal line")
  func bars() throws {
    try assertSnapshot(String(decoding: try Self.barsFigure().svgData(), as: UTF8.self), named: "bars.svg")
  }

  @Test("rendering twice in one process gives identical SVG and PNG bytes")
  func deterministic() throws {
    let fig = Self.twinFigure()
    #expect(try fig.svgData() == fig.svgData())
    #expect(try fig.pngData() == fig.pngData())
  }

  @Test("the scene of the stability figure names its threshold, axes and caption")
  func sceneContents() {
    let t = texts(Self.stabilityFigure().scene())
    for s in ["2/η", "λ₁", "η", "WRN", "scale: test", "1e-3", "0.01", "0.1", "1"] { #expect(t.contains(s), "missing \(s)") }
  }
}
