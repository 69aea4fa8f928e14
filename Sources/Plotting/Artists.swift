/// Marker shapes for scatter points and legend entries.
public enum Marker: Sendable, Hashable {
  /// Filled circle: the default for runs that trained.
  case circle
  /// ✕: the paper's mark for divergent runs (stroked, never filled).
  case cross
  /// Filled upward triangle.
  case triangle
  /// Filled square.
  case square
  /// Filled diamond.
  case diamond
}

/// How a line is stroked.
public enum LineStyle: Sendable, Hashable {
  case solid
  /// Long dashes: thresholds such as 2/η in the paper.
  case dashed
  case dotted
  case dashDot

  /// The dash pattern in points, scaled by line width the way matplotlib does.
  public func dashes(width: Double) -> [Double] {
    let w = Swift.max(1, width)
    switch self {
    case .solid: return []
    case .dashed: return [3.7 * w, 1.6 * w]
    case .dotted: return [1 * w, 1.65 * w]
    case .dashDot: return [6.4 * w, 1.6 * w, 1 * w, 1.6 * w]
    }
  }
}

/// Which y-axis an artist is drawn against: the main (left) one or the twin (right) one.
public enum YAxisSide: Sendable, Hashable {
  case left
  case right
}

/// A polyline through (x, y) points. Non-finite points (and non-positive ones on log axes) break
/// the line into separate pieces, as in matplotlib.
public struct Line: Sendable, Hashable {
  public var x: [Double]
  public var y: [Double]
  public var color: Color
  public var width: Double
  public var style: LineStyle
  public var label: String?
  public var side: YAxisSide
  /// A marker drawn at every point, if any.
  public var marker: Marker?

  public init(x: [Double], y: [Double], color: Color = Palette.blue, width: Double = 1.5,
              style: LineStyle = .solid, label: String? = nil, side: YAxisSide = .left, marker: Marker? = nil) {
    precondition(x.count == y.count, "Line: x and y must have the same length (\(x.count) vs \(y.count))")
    self.x = x; self.y = y; self.color = color; self.width = width; self.style = style
    self.label = label; self.side = side; self.marker = marker
  }
}

/// Points with a marker shape each. Per-point `markers` let one series (one colour) mix ● for runs
/// that trained with ✕ for runs that diverged, as in the paper's Figures 2 and 3.
public struct Scatter: Sendable, Hashable {
  public var x: [Double]
  public var y: [Double]
  public var color: Color
  /// The series' marker (also shown in the legend).
  public var marker: Marker
  /// Optional marker per point, overriding ``marker``.
  public var markers: [Marker]?
  /// Optional colour per point (e.g. from a ``Colormap``), overriding ``color``.
  public var colors: [Color]?
  /// Marker size in points (the diameter of a circle).
  public var size: Double
  public var label: String?
  public var side: YAxisSide

  public init(x: [Double], y: [Double], color: Color = Palette.blue, marker: Marker = .circle,
              markers: [Marker]? = nil, colors: [Color]? = nil, size: Double = 6,
              label: String? = nil, side: YAxisSide = .left) {
    precondition(x.count == y.count, "Scatter: x and y must have the same length (\(x.count) vs \(y.count))")
    precondition(markers == nil || markers?.count == x.count, "Scatter: one marker per point")
    precondition(colors == nil || colors?.count == x.count, "Scatter: one colour per point")
    self.x = x; self.y = y; self.color = color; self.marker = marker; self.markers = markers
    self.colors = colors; self.size = size; self.label = label; self.side = side
  }
}

/// A line across the whole axes: horizontal, vertical, or a stability threshold y = c/x.
public struct ReferenceLine: Sendable, Hashable {
  public enum Kind: Sendable, Hashable {
    /// y = value.
    case horizontal(Double)
    /// x = value.
    case vertical(Double)
    /// y = c / x: with x = η and y = λ₁ this is the stability threshold of gradient descent on a
    /// quadratic, λ₁ < 2/η (c = 2); (2 + 2β)/η for heavy-ball momentum β (c = 2 + 2β, e.g. 3.8 for
    /// β = 0.9); the paper's Adam-corrected 38/η and 40/η (Appendix, Fig. 14). A straight line of
    /// slope −1 on log–log axes.
    case inverse(c: Double)
  }
  public var kind: Kind
  public var color: Color
  public var width: Double
  public var style: LineStyle
  public var label: String?
  public var side: YAxisSide

  public init(_ kind: Kind, color: Color = Palette.threshold, width: Double = 1.2,
              style: LineStyle = .dashed, label: String? = nil, side: YAxisSide = .left) {
    self.kind = kind; self.color = color; self.width = width; self.style = style
    self.label = label; self.side = side
  }
}

/// A filled region of the axes.
public struct ShadedRegion: Sendable, Hashable {
  public enum Region: Sendable, Hashable {
    /// y > c/x: the unstable side of the threshold c/η (λ₁ > 2/η for c = 2).
    case aboveInverse(c: Double)
    /// y < c/x.
    case belowInverse(c: Double)
    /// lo ≤ x ≤ hi, full height.
    case xSpan(Double, Double)
    /// lo ≤ y ≤ hi, full width.
    case ySpan(Double, Double)
    /// Between two curves sampled at the same x (an uncertainty band).
    case between(x: [Double], lower: [Double], upper: [Double])
  }
  public var region: Region
  public var color: Color
  public var label: String?
  public var side: YAxisSide

  public init(_ region: Region, color: Color = Palette.unstableFill, label: String? = nil,
              side: YAxisSide = .left) {
    if case .between(let x, let lo, let hi) = region {
      precondition(x.count == lo.count && x.count == hi.count, "ShadedRegion.between: equal lengths")
    }
    self.region = region; self.color = color; self.label = label; self.side = side
  }
}

/// Where a text annotation is anchored.
public enum AnnotationPosition: Sendable, Hashable {
  /// Data coordinates on the given y-axis.
  case data(x: Double, y: Double, side: YAxisSide)
  /// Fractions of the axes box: (0, 0) bottom left, (1, 1) top right.
  case axes(x: Double, y: Double)
}

/// Horizontal alignment of text relative to its anchor.
public enum HAlign: Sendable, Hashable { case left, center, right }
/// Vertical alignment of text relative to its anchor.
public enum VAlign: Sendable, Hashable { case baseline, top, center, bottom }

/// Text on the axes: the paper's panel letters A–F, or a label next to a threshold line.
public struct Annotation: Sendable, Hashable {
  public var text: String
  public var position: AnnotationPosition
  /// Offset from the anchor in points, x to the right.
  public var dx: Double
  /// Offset from the anchor in points, y upwards.
  public var dy: Double
  public var size: Double
  public var color: Color
  public var bold: Bool
  public var hAlign: HAlign
  public var vAlign: VAlign

  public init(_ text: String, at position: AnnotationPosition, dx: Double = 0, dy: Double = 0,
              size: Double = 9, color: Color = .black, bold: Bool = false,
              hAlign: HAlign = .left, vAlign: VAlign = .bottom) {
    self.text = text; self.position = position; self.dx = dx; self.dy = dy; self.size = size
    self.color = color; self.bold = bold; self.hAlign = hAlign; self.vAlign = vAlign
  }

}

/// Vertical bars centred on x, from a baseline of 0 (of 1 on a log axis… or the bottom limit).
public struct Bars: Sendable, Hashable {
  public var x: [Double]
  public var heights: [Double]
  /// Bar width in data units (linear x axes).
  public var width: Double
  public var color: Color
  public var label: String?

  public init(x: [Double], heights: [Double], width: Double = 0.8, color: Color = Palette.blue, label: String? = nil) {
    precondition(x.count == heights.count, "Bars: x and heights must have the same length")
    self.x = x; self.heights = heights; self.width = width; self.color = color; self.label = label
  }
}

/// Anything drawn inside an ``Axes``. Plain values; the layout turns them into primitives.
public enum Artist: Sendable, Hashable {
  case line(Line)
  case scatter(Scatter)
  case reference(ReferenceLine)
  case shade(ShadedRegion)
  case annotation(Annotation)
  case bars(Bars)

  /// Drawing order: fills under lines under markers under text (matplotlib's zorder).
  var zOrder: Int {
    switch self {
    case .shade: return 0
    case .bars: return 1
    case .reference: return 2
    case .line: return 3
    case .scatter: return 4
    case .annotation: return 5
    }
  }
}
