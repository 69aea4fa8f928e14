import Foundation
import Testing
@testable import Plotting

@Suite("Gallery")
struct GalleryTests {
  @Test("renders every page as a decodable PNG and a finished SVG, deterministically")
  func rendersGallery() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plotting-gallery-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let paths = try renderGallery(to: dir)
    #expect(paths.count == 13)
    for p in paths {
      let data = try #require(FileManager.default.contents(atPath: p))
      #expect(data.count > 500, "\(p) is suspiciously small")
      if p.hasSuffix(".png") {
        let img = try RasterImage(contentsOfPNG: p)
        #expect(img.width >= 1000)
      } else if p.hasSuffix(".svg") {
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("</svg>"))
      }
    }
    // Render a second time: byte-identical files.
    let dir2 = dir + "-again"
    defer { try? FileManager.default.removeItem(atPath: dir2) }
    let again = try renderGallery(to: dir2)
    for (a, b) in zip(paths, again) {
      #expect(FileManager.default.contents(atPath: a) == FileManager.default.contents(atPath: b), "\(a) differs between runs")
    }
    if let keep = ProcessInfo.processInfo.environment["GALLERY_OUT"] { _ = try renderGallery(to: keep) }
  }
}

@Suite("Layout geometry: no legend hides data, no labels collide, no empty panels, series apart in colour")
struct LayoutGeometryTests {
  @Test("every gallery page", arguments: GalleryPages.all("test").map(\.0))
  func galleryPage(name: String) throws {
    let fig = try #require(GalleryPages.all("test").first { $0.0 == name }?.1)
    let geometry = fig.geometry()
    #expect(geometry.collidingTitles.isEmpty, "\(name): titles collide: \(geometry.collidingTitles)")
    for g in geometry {
      #expect(g.pointsUnderLegend == 0, "\(name) panel \(g.index): legend over \(g.pointsUnderLegend) drawn points")
      #expect(g.overlappingAnnotations == 0, "\(name) panel \(g.index): \(g.overlappingAnnotations) overlapping labels")
      #expect(g.similarSeries.isEmpty, "\(name) panel \(g.index): series too alike (ΔE*ab): \(g.similarSeries)")
      if let l = g.legend, g.legendPlacement == .outside { #expect(!l.intersects(g.plot), "\(name) panel \(g.index): outside legend over the plot") }
      // The robustness page draws a deliberately empty panel ("no data"): every other page draws data in every panel.
      if name != "robustness" { #expect(g.hasData, "\(name) panel \(g.index) is empty") }
    }
  }

  @Test("colour differences: CIELAB of known colours, the palette's pairs all clearly apart")
  func colourDifferences() {
    let white = Color(hex: 0xFFFFFF).lab, black = Color(hex: 0x000000).lab
    #expect(abs(white.l - 100) < 0.01 && abs(white.a) < 0.01 && abs(white.b) < 0.01 && abs(black.l) < 1e-9)
    // sRGB red is L* 53.24, a* 80.09, b* 67.20.
    let red = Color(hex: 0xFF0000).lab
    #expect(abs(red.l - 53.24) < 0.05 && abs(red.a - 80.09) < 0.05 && abs(red.b - 67.20) < 0.05)
    let p = Palette.okabeIto
    for i in p.indices { for j in p.indices where j > i { #expect(p[i].difference(p[j]) >= Color.minSeriesDifference, "palette \(i), \(j)") } }
    // Seven steps of viridis (ordered series) stay apart too.
    let v = Colormap.viridis.colors(7)
    for i in v.indices.dropLast() { #expect(v[i].difference(v[i + 1]) >= Color.minSeriesDifference) }
  }

  @Test("a long title shrinks, then is cut, to stay over its own plot")
  func longTitlesFit() throws {
    var fig = Figure(rows: 1, cols: 3, width: 600, height: 200)
    for c in 0..<3 {
      var ax = Axes(title: String(repeating: "a very long panel title ", count: c + 1))
      ax.plot(x: [0, 1], y: [0, 1])
      fig[0, c] = ax
    }
    let g = fig.geometry()
    #expect(g.collidingTitles.isEmpty)
    for p in g { #expect(try #require(p.title).width <= p.plot.width + 40 + 1e-9) }
  }

  @Test("a .best legend with no free corner moves outside its panel, and its column widens instead of its plot narrowing")
  func crowdedLegendMovesOutside() throws {
    var fig = Figure(rows: 1, cols: 2, width: 600, height: 220)
    for c in 0..<2 {
      var ax = Axes(title: "panel \(c)")
      // A grid of points over the whole panel: no corner is free.
      let xs = (0..<400).map { Double($0 % 20) }, ys = (0..<400).map { Double($0 / 20) }
      ax.scatter(x: xs, y: ys, label: c == 0 ? "everywhere" : nil)
      fig[0, c] = ax
    }
    fig[0, 0].legend = .best
    let g = fig.geometry()
    #expect(g[0].legendPlacement == .outside && g[0].pointsUnderLegend == 0)
    #expect(abs(g[0].plot.width - g[1].plot.width) < 1e-9)
    let legend = try #require(g[0].legend)
    #expect(legend.minX >= g[0].plot.maxX && legend.maxX <= g[1].plot.minX)
    // With room in a corner it stays inside.
    var sparse = Figure(rows: 1, cols: 1, width: 300, height: 220)
    var ax = Axes()
    ax.scatter(x: [0, 1, 2], y: [0, 0.1, 0.2], label: "three points low")
    sparse[0, 0] = ax
    #expect(sparse.geometry()[0].legendPlacement == .best && sparse.geometry()[0].pointsUnderLegend == 0)
  }
}
