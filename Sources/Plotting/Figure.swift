/// A page of subplots in a grid, with a title and a caption line (matplotlib's `Figure`).
///
/// ```swift
/// var fig = Figure(rows: 1, cols: 2, title: "Stability of SGD", caption: "scale: tiny · commit abc123")
/// fig[0, 0] = leftAxes
/// fig[0, 1] = rightAxes
/// try fig.write(png: "fig2.png")   // 2× device scale
/// try fig.write(svg: "fig2.svg")
/// ```
public struct Figure: Sendable, Hashable {
  public var rows: Int
  public var cols: Int
  /// Page width in points.
  public var width: Double
  /// Page height in points.
  public var height: Double
  /// Bold line above the grid; empty for none.
  public var title: String
  /// Small grey line below the grid naming the scale and commit; empty for none.
  public var caption: String
  /// All subplots use one x range, and only the bottom row labels its x ticks.
  public var sharedX: Bool
  /// All subplots use one y range (left and right separately), and only the outer columns label y ticks.
  public var sharedY: Bool
  /// The subplots in row-major order (`rows × cols` of them).
  public var axes: [Axes]

  /// A figure with `rows × cols` empty axes. The default size gives each panel about 250 × 190 pt.
  public init(rows: Int = 1, cols: Int = 1, width: Double? = nil, height: Double? = nil,
              title: String = "", caption: String = "", sharedX: Bool = false, sharedY: Bool = false) {
    precondition(rows >= 1 && cols >= 1, "a figure needs at least one row and one column")
    self.rows = rows; self.cols = cols
    self.width = width ?? Double(cols) * 250 + 20
    self.height = height ?? Double(rows) * 190 + (title.isEmpty ? 0 : 24) + (caption.isEmpty ? 0 : 16) + 10
    self.title = title; self.caption = caption; self.sharedX = sharedX; self.sharedY = sharedY
    self.axes = Array(repeating: Axes(), count: rows * cols)
  }

  /// The subplot in `row`, `col` (0-based).
  public subscript(row: Int, col: Int) -> Axes {
    get { axes[index(row, col)] }
    set { axes[index(row, col)] = newValue }
  }

  private func index(_ row: Int, _ col: Int) -> Int {
    precondition(row >= 0 && row < rows && col >= 0 && col < cols, "subplot (\(row), \(col)) outside \(rows)×\(cols)")
    return row * cols + col
  }

  /// The plot area of every subplot in points (row-major, origin top left), as the layout places them.
  public func plotAreas() -> [Rect] { Layout(figure: self).plotRects() }

  /// Where each visible panel's parts landed, as drawn (legends placed): for checks that no
  /// legend hides data and no two labels collide.
  public func geometry() -> [PanelGeometry] {
    Layout(figure: Layout(figure: self).withLegendsPlaced()).panels().map { i, panel, _ in
      let legend = panel.legendRect(avoiding: panel.annotationBoxes)
      return PanelGeometry(index: i, plot: panel.rect, legend: legend, legendPlacement: panel.axes.legend,
                    pointsUnderLegend: legend.map(panel.pointsUnder) ?? 0, points: panel.occupied, annotations: panel.annotationBoxes,
                    title: panel.titleBox, hasData: panel.resolved.hasData, seriesColors: PanelLayout.seriesColors(panel.axes))
    }
  }

  /// The drawing commands for this figure (pure: no Cairo involved).
  public func scene() -> Scene { Layout(figure: self).scene() }

  /// Encoded PNG bytes at `scale` device pixels per point.
  public func pngData(scale: Double = 2) throws -> [UInt8] { try PNGRenderer(scale: scale).render(scene()) }

  /// Encoded SVG bytes.
  public func svgData() throws -> [UInt8] { try SVGRenderer().render(scene()) }

  /// Writes a PNG at 2× device scale (or `scale`). Throws ``PlotError`` on an unwritable path.
  public func write(png path: String, scale: Double = 2) throws {
    try PNGRenderer(scale: scale).write(scene(), to: path)
  }

  /// Writes an SVG. Throws ``PlotError`` on an unwritable path.
  public func write(svg path: String) throws { try SVGRenderer().write(scene(), to: path) }

  /// Writes `<basePath>.png` and `<basePath>.svg` and returns both paths.
  @discardableResult
  public func write(basePath: String, scale: Double = 2) throws -> [String] {
    let s = scene()
    let png = basePath + ".png", svg = basePath + ".svg"
    try PNGRenderer(scale: scale).write(s, to: png)
    try SVGRenderer().write(s, to: svg)
    return [png, svg]
  }
}

/// One drawn panel's geometry (`Figure.geometry()`), in points.
public struct PanelGeometry: Sendable {
  /// Row-major index of the panel in its figure.
  public var index: Int
  public var plot: Rect
  /// The legend box, nil when the panel has none.
  public var legend: Rect?
  /// Where its legend went after placement (`.best` stays only where it hides nothing).
  public var legendPlacement: LegendPlacement
  /// Drawn points under the legend (with a 3-point margin): the rule the layout places legends by.
  public var pointsUnderLegend: Int
  /// Figure-space points of the drawn markers and lines inside the plot.
  public var points: [Point]
  /// The annotation text boxes (panel letters, labels).
  public var annotations: [Rect]
  /// The title's box as drawn (shrunk or cut to fit over the plot).
  public var title: Rect?
  public var hasData: Bool
  /// The colour and style of each labelled line or scatter series (what its legend row shows).
  public var seriesColors: [String: SeriesStyle] = [:]

  /// Pairs of differently labelled series drawn in the same style (line style and marker) whose
  /// colours differ by less than `Color.minSeriesDifference` (ΔE*ab), with that difference. A
  /// run's λ1 and its own 2/η_t share a colour on purpose and differ by line style.
  public var similarSeries: [(String, String, Double)] {
    let named = seriesColors.sorted { $0.key < $1.key }
    var out: [(String, String, Double)] = []
    for i in named.indices {
      for j in named.indices where j > i && named[i].value.style == named[j].value.style {
        let d = named[i].value.color.difference(named[j].value.color)
        if d < Color.minSeriesDifference { out.append((named[i].key, named[j].key, d)) }
      }
    }
    return out
  }

  /// Pairs of annotations whose boxes overlap.
  public var overlappingAnnotations: Int {
    var n = 0
    for i in annotations.indices { for j in annotations.indices where j > i && annotations[i].intersects(annotations[j]) { n += 1 } }
    return n
  }
}

extension Array where Element == PanelGeometry {
  /// Pairs of panels whose titles overlap, or whose title runs into another panel's legend.
  public var collidingTitles: [(Int, Int)] {
    var out: [(Int, Int)] = []
    for a in self {
      guard let t = a.title else { continue }
      for b in self where b.index != a.index {
        if b.index > a.index, let u = b.title, t.intersects(u) { out.append((a.index, b.index)) }
        if let l = b.legend, t.intersects(l) { out.append((a.index, b.index)) }
      }
    }
    return out
  }
}

/// A series' colour and how it is drawn ("solid/circle", "dashed/-", "scatter/cross").
public struct SeriesStyle: Sendable, Hashable {
  public var color: Color
  public var style: String
}
