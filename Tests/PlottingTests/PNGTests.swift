import Foundation
import Testing
@testable import Plotting

/// PNGs are checked by decoding pixels, never byte for byte against a golden image.
@Suite("PNG pixels")
struct PNGTests {
  static let scale = 2.0

  /// A unit-square plot with explicit limits, so data positions are known.
  static func unitFigure(_ build: (inout Axes) -> Void) -> Figure {
    var fig = Figure(rows: 1, cols: 1, width: 220, height: 180)
    var ax = Axes(x: Axis(limits: 0...1), y: Axis(limits: 0...1), legend: .none)
    build(&ax)
    fig[0, 0] = ax
    return fig
  }

  static func pixel(_ rect: Rect, _ x: Double, _ y: Double) -> (Int, Int) {
    (Int(((rect.minX + x * rect.width) * scale).rounded(.down)), Int(((rect.maxY - y * rect.height) * scale).rounded(.down)))
  }

  @Test("a marker has its series colour at its data position; the background is white")
  func markerColour() throws {
    let fig = Self.unitFigure { ax in
      ax.scatter(x: [0.5], y: [0.5], color: Palette.vermillion, size: 12)
      ax.scatter(x: [0.25], y: [0.75], color: Palette.blue, marker: .square, size: 12)
    }
    let rect = fig.plotAreas()[0]
    let img = try RasterImage(pngData: try fig.pngData(scale: Self.scale))
    #expect(img.width == Int(fig.width * Self.scale) && img.height == Int(fig.height * Self.scale))
    let (cx, cy) = Self.pixel(rect, 0.5, 0.5)
    #expect(close(img.color(x: cx, y: cy), Palette.vermillion), "\(img.color(x: cx, y: cy))")
    let (sx, sy) = Self.pixel(rect, 0.25, 0.75)
    #expect(close(img.color(x: sx, y: sy), Palette.blue))
    let (ex, ey) = Self.pixel(rect, 0.75, 0.25)
    #expect(close(img.color(x: ex, y: ey), .white))
  }

  /// Dark and light runs along the pixel row of a horizontal line.
  static func runs(along y: Double, in fig: Figure) throws -> (dark: Int, light: Int, transitions: Int) {
    let rect = fig.plotAreas()[0]
    let img = try RasterImage(pngData: try fig.pngData(scale: scale))
    let row = Int(((rect.maxY - y * rect.height) * scale).rounded(.down))
    var dark = 0, light = 0, transitions = 0, previous: Bool? = nil
    for x in Int(rect.minX * scale) + 4 ..< Int(rect.maxX * scale) - 4 {
      let isDark = img.color(x: x, y: row).luminance < 0.3
      if isDark { dark += 1 } else { light += 1 }
      if let p = previous, p != isDark { transitions += 1 }
      previous = isDark
    }
    return (dark, light, transitions)
  }

  @Test("a dashed line has gaps; a solid one has none")
  func dashed() throws {
    let dashed = try Self.runs(along: 0.3, in: Self.unitFigure { $0.reference(.horizontal(0.3), style: .dashed, width: 2) })
    #expect(dashed.transitions >= 10)
    #expect(dashed.dark > 0 && dashed.light > 0)
    let solid = try Self.runs(along: 0.3, in: Self.unitFigure { $0.reference(.horizontal(0.3), style: .solid, width: 2) })
    #expect(solid.transitions == 0 && solid.light == 0)
  }

  @Test("nothing is drawn outside the plot area, even for data beyond explicit limits")
  func clipped() throws {
    let green = Color(hex: 0x00C000)
    let fig = Self.unitFigure { ax in
      ax.scatter(x: [-1, 2, 0.5, 0.5, 0.5], y: [0.5, 0.5, 5, -3, 0.5], color: green, size: 14)
      ax.plot(x: [-2, 3], y: [-2, 3], color: green, width: 3)
      ax.shade(.ySpan(0.9, 7), color: green.withAlpha(0.5))
    }
    let rect = fig.plotAreas()[0]
    let img = try RasterImage(pngData: try fig.pngData(scale: Self.scale))
    func isGreen(_ c: Color) -> Bool { c.green > c.red + 0.25 && c.green > c.blue + 0.25 }
    let inside = Rect(x: rect.minX * Self.scale - 2, y: rect.minY * Self.scale - 2,
                      width: rect.width * Self.scale + 4, height: rect.height * Self.scale + 4)
    var greenInside = 0, greenOutside = 0
    for y in 0..<img.height {
      for x in 0..<img.width where isGreen(img.color(x: x, y: y)) {
        if inside.contains(Point(Double(x), Double(y))) { greenInside += 1 } else { greenOutside += 1 }
      }
    }
    #expect(greenInside > 100)
    #expect(greenOutside == 0)
  }

  @Test("PNG is rendered at 2× device scale by default")
  func deviceScale() throws {
    let fig = Self.unitFigure { $0.plot(x: [0, 1], y: [0, 1]) }
    let img = try RasterImage(pngData: try fig.pngData())
    #expect(img.width == 440 && img.height == 360)
    let one = try RasterImage(pngData: try fig.pngData(scale: 1))
    #expect(one.width == 220)
  }
}
