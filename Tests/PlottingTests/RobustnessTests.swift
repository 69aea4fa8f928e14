import Foundation
import Testing
@testable import Plotting

@Suite("Robustness")
struct RobustnessTests {
  enum Case: String, CaseIterable, Sendable {
    case nan, infinity, empty, singlePoint, zeroRange, nonPositiveLog, allNaN, hugeRange, invalidLimits
  }

  static func figure(_ c: Case) -> Figure {
    var fig = Figure(rows: 1, cols: 1, width: 200, height: 160)
    var ax = Axes(title: c.rawValue)
    switch c {
    case .nan: ax.plot(x: [0, 1, 2, 3], y: [1, .nan, 2, 3], label: "nan")
    case .infinity: ax.scatter(x: [0, 1, .infinity], y: [1, -.infinity, 2])
    case .empty: ax.plot(x: [], y: [], label: "empty")
    case .singlePoint: ax.scatter(x: [0.1], y: [20]); ax.x.scale = .log; ax.y.scale = .log
    case .zeroRange: ax.plot(x: [1, 1, 1], y: [2, 2, 2])
    case .nonPositiveLog:
      ax.x.scale = .log; ax.y.scale = .log
      ax.scatter(x: [-1, 0, 0.1, 1], y: [1, 1, 0, 5]); ax.reference(.inverse(c: 2))
    case .allNaN: ax.scatter(x: [.nan], y: [.nan]); ax.y.scale = .log
    case .hugeRange: ax.plot(x: [0, 1, 2], y: [-1e308, 0, 1e308])
    case .invalidLimits: ax.y.scale = .log; ax.y.limits = -1...10; ax.plot(x: [0, 1], y: [1, 2])
    }
    fig[0, 0] = ax
    return fig
  }

  @Test("awkward data renders a valid PNG and SVG", arguments: Case.allCases)
  func rendersValidFiles(_ c: Case) throws {
    let fig = Self.figure(c)
    let img = try RasterImage(pngData: try fig.pngData())
    #expect(img.width == 400 && img.height == 320)
    let svg = String(decoding: try fig.svgData(), as: UTF8.self)
    #expect(svg.hasPrefix("<?xml") && svg.contains("</svg>"))
    // Something besides the white page was drawn (spines at least).
    #expect(img.rgba.enumerated().contains { $0.offset % 4 == 0 && $0.element < 128 })
  }

  @Test("skipped values are reported by a visible note")
  func notes() {
    #expect(texts(Self.figure(.nan).scene()).contains { $0.contains("1 NaN/∞ point not shown") })
    #expect(texts(Self.figure(.infinity).scene()).contains { $0.contains("2 NaN/∞ points not shown") })
    #expect(texts(Self.figure(.nonPositiveLog).scene()).contains { $0.contains("3 points ≤ 0 not shown on log axis") })
    #expect(texts(Self.figure(.empty).scene()).contains("no data"))
    #expect(texts(Self.figure(.allNaN).scene()).contains("no data"))
    #expect(texts(Self.figure(.invalidLimits).scene()).contains { $0.contains("invalid y limits ignored") })
    #expect(!texts(Self.figure(.zeroRange).scene()).contains { $0.contains("not shown") })
  }

  @Test("a blank cell draws nothing: no frame, no ticks, no \"no data\"")
  func blankCell() {
    var fig = Figure(rows: 1, cols: 2, width: 400, height: 160)
    fig[0, 0].plot(x: [0, 1], y: [1, 2])
    let withEmpty = fig.scene().primitives.count
    #expect(texts(fig.scene()).contains("no data"))
    fig[0, 1] = .blank
    #expect(!texts(fig.scene()).contains("no data"))
    var alone = Figure(rows: 1, cols: 2, width: 400, height: 160)
    alone[0, 0].plot(x: [0, 1], y: [1, 2])
    alone[0, 1] = .blank
    #expect(alone.scene().primitives.count < withEmpty)
    var single = Figure(rows: 1, cols: 1, width: 400, height: 160)
    single[0, 0] = .blank
    // Only the white page is left.
    #expect(single.scene().primitives.count == 1)
  }

  @Test("an unwritable path throws a typed error naming the path")
  func unwritable() throws {
    let fig = Self.figure(.nan)
    let path = "/nonexistent-directory-\(getpid())/figure.png"
    #expect(throws: PlotError.self) { try fig.write(png: path) }
    do {
      try fig.write(svg: "/nonexistent-directory-\(getpid())/figure.svg")
      Issue.record("expected a throw")
    } catch let error as PlotError {
      guard case .unwritable(let p, _) = error else { Issue.record("wrong case \(error)"); return }
      #expect(p.hasSuffix("figure.svg"))
      #expect(error.description.contains("cannot write figure to"))
    }
    // A path that is an existing directory cannot be written either.
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plot-dir-\(getpid())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    #expect(throws: PlotError.self) { try fig.write(png: dir) }
  }

  @Test("writes PNG and SVG files that read back")
  func writesFiles() throws {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("plot-write-\(getpid())").path
    let paths = try Self.figure(.singlePoint).write(basePath: base)
    defer { for p in paths { try? FileManager.default.removeItem(atPath: p) } }
    #expect(paths == [base + ".png", base + ".svg"])
    #expect(try RasterImage(contentsOfPNG: paths[0]).width == 400)
    #expect(throws: PlotError.self) { try RasterImage(pngData: [1, 2, 3]) }
  }
}
