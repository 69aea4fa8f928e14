/// One axis of an ``Axes``: its scale, label, limits and optional fixed ticks.
public struct Axis: Sendable, Hashable {
  public var scale: Scale
  /// The axis label; Unicode Greek letters and subscripts render directly ("λ₁", "η").
  public var label: String
  /// Explicit limits; `nil` chooses them from the data with 5 % padding.
  public var limits: ClosedRange<Double>?
  /// Fixed labelled ticks (e.g. category names under bars); `nil` generates them from the scale.
  public var ticks: [Tick]?

  public init(scale: Scale = .linear, label: String = "", limits: ClosedRange<Double>? = nil, ticks: [Tick]? = nil) {
    self.scale = scale; self.label = label; self.limits = limits; self.ticks = ticks
  }
}

/// Where the legend goes.
public enum LegendPlacement: Sendable, Hashable {
  /// The inside corner or edge that covers the fewest drawn points (matplotlib's "best").
  case best
  case upperRight, upperLeft, lowerLeft, lowerRight
  /// Outside the plot area, to the right (the layout reserves the room).
  case outside
  /// No legend.
  case none
}

/// A legend row that belongs to no artist, such as "✕ diverged" when divergence is marked per point.
public struct LegendEntry: Sendable, Hashable {
  public var label: String
  public var color: Color
  public var marker: Marker?
  public var line: LineStyle?
  /// A filled swatch (for shaded regions and bars).
  public var patch: Bool

  public init(label: String, color: Color, marker: Marker? = nil, line: LineStyle? = nil, patch: Bool = false) {
    self.label = label; self.color = color; self.marker = marker; self.line = line; self.patch = patch
  }
}

/// A plot area with its axes and artists (matplotlib's `Axes`). A plain value: build it, then put it
/// in a ``Figure``.
///
/// ```swift
/// var ax = Axes(title: "At initialization",
///               x: Axis(scale: .log, label: "learning rate η"),
///               y: Axis(scale: .log, label: "λ₁"))
/// ax.shade(.aboveInverse(c: 2), label: "λ₁ > 2/η")
/// ax.reference(.inverse(c: 2), label: "2/η")
/// ax.scatter(x: etas, y: lambdas, markers: diverged.map { $0 ? .cross : .circle }, label: "WRN")
/// ```
public struct Axes: Sendable, Hashable {
  public var title: String
  public var x: Axis
  /// The left y-axis.
  public var y: Axis
  /// The twin right y-axis (matplotlib's `twinx`), used by artists with `side: .right`.
  public var y2: Axis?
  public var artists: [Artist]
  public var legend: LegendPlacement
  /// Extra legend rows after the artists' own.
  public var legendEntries: [LegendEntry]
  /// Light grid lines at the major ticks.
  public var grid: Bool
  /// False for a grid cell left blank (a figure whose panel count does not fill its grid).
  public var isVisible = true

  /// A blank grid cell.
  public static var blank: Axes {
    var a = Axes()
    a.isVisible = false
    return a
  }

  public init(title: String = "", x: Axis = Axis(), y: Axis = Axis(), y2: Axis? = nil,
              artists: [Artist] = [], legend: LegendPlacement = .best,
              legendEntries: [LegendEntry] = [], grid: Bool = false) {
    self.title = title; self.x = x; self.y = y; self.y2 = y2; self.artists = artists
    self.legend = legend; self.legendEntries = legendEntries; self.grid = grid
  }

  // MARK: Building

  /// Adds a line plot.
  public mutating func plot(x: [Double], y: [Double], color: Color? = nil, width: Double = 1.5,
                            style: LineStyle = .solid, label: String? = nil, side: YAxisSide = .left,
                            marker: Marker? = nil) {
    artists.append(.line(Line(x: x, y: y, color: color ?? nextColor, width: width, style: style,
                              label: label, side: side, marker: marker)))
  }

  /// Adds a scatter series.
  public mutating func scatter(x: [Double], y: [Double], color: Color? = nil, marker: Marker = .circle,
                               markers: [Marker]? = nil, colors: [Color]? = nil, size: Double = 6,
                               label: String? = nil, side: YAxisSide = .left) {
    artists.append(.scatter(Scatter(x: x, y: y, color: color ?? nextColor, marker: marker, markers: markers,
                                    colors: colors, size: size, label: label, side: side)))
  }

  /// Adds a reference line (y = c/x threshold, horizontal or vertical line).
  public mutating func reference(_ kind: ReferenceLine.Kind, color: Color = Palette.threshold,
                                 style: LineStyle = .dashed, width: Double = 1.2, label: String? = nil,
                                 side: YAxisSide = .left) {
    artists.append(.reference(ReferenceLine(kind, color: color, width: width, style: style, label: label, side: side)))
  }

  /// Adds a shaded region.
  public mutating func shade(_ region: ShadedRegion.Region, color: Color = Palette.unstableFill,
                             label: String? = nil, side: YAxisSide = .left) {
    artists.append(.shade(ShadedRegion(region, color: color, label: label, side: side)))
  }

  /// Adds a text annotation.
  public mutating func annotate(_ text: String, at position: AnnotationPosition, dx: Double = 0, dy: Double = 0,
                                size: Double = 9, color: Color = .black, bold: Bool = false,
                                hAlign: HAlign = .left, vAlign: VAlign = .bottom) {
    artists.append(.annotation(Annotation(text, at: position, dx: dx, dy: dy, size: size, color: color,
                                          bold: bold, hAlign: hAlign, vAlign: vAlign)))
  }

  /// Adds a bold panel letter (the paper's A–F) in the top-left corner of the axes.
  public mutating func panelLetter(_ letter: String) {
    annotate(letter, at: .axes(x: 0, y: 1), dx: 5, dy: -5, size: 11, bold: true, hAlign: .left, vAlign: .top)
  }

  /// Adds bars.
  public mutating func bar(x: [Double], heights: [Double], width: Double = 0.8, color: Color? = nil, label: String? = nil) {
    artists.append(.bars(Bars(x: x, heights: heights, width: width, color: color ?? nextColor, label: label)))
  }

  /// The palette colour after those already used by lines, scatters and bars.
  public var nextColor: Color {
    Palette.color(artists.filter {
      switch $0 { case .line, .scatter, .bars: return true; default: return false }
    }.count)
  }
}
