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
