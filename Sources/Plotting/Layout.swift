/// Turns a ``Figure`` into a ``Scene``: resolves limits and ticks, places the subplots, and emits
/// drawing primitives. Pure: text is measured with ``TextMetrics``, never with Cairo.
struct Layout {
  let figure: Figure

  // Sizes in points.
  static let outerPad = 8.0
  static let tickFont = 8.0
  static let labelFont = 9.0
  static let titleFont = 10.0
  static let figureTitleFont = 12.0
  static let captionFont = 7.5
  static let legendFont = 7.5
  static let noteFont = 7.0
  static let majorTick = 3.5
  static let minorTick = 2.0
  static let tickGap = 2.5
  static let columnGap = 14.0
  static let rowGap = 6.0
  static let noteColor = Color(hex: 0x8B0000)

  /// Limits, ticks and notes of one subplot.
  struct Resolved {
    var x: ClosedRange<Double>
    var y: ClosedRange<Double>
    var y2: ClosedRange<Double>?
    var xTicks: TickSet
    var yTicks: TickSet
    var y2Ticks: TickSet?
    var notes: [String]
    var hasData: Bool
  }

  /// Each visible panel laid out and drawn (its primitives, with what it occupies).
  func panels() -> [(index: Int, panel: PanelLayout, primitives: [Primitive])] {
    let resolved = resolveAll()
    let rects = plotRects(resolved)
    var out: [(index: Int, panel: PanelLayout, primitives: [Primitive])] = []
    for row in 0..<figure.rows {
      for col in 0..<figure.cols {
        let i = row * figure.cols + col
        guard figure.axes[i].isVisible else { continue }
        let showX = !figure.sharedX || row == figure.rows - 1
        let showY = !figure.sharedY || col == 0
        let showY2 = !figure.sharedY || col == figure.cols - 1
        var panel = PanelLayout(axes: figure.axes[i], resolved: resolved[i], rect: rects[i],
                                showXLabels: showX, showYLabels: showY, showY2Labels: showY2)
        let prims = panel.primitives()
        out.append((i, panel, prims))
      }
    }
    return out
  }

  /// The figure with every `.best` legend that cannot sit inside its panel without hiding a
  /// drawn point (or an annotation) moved outside the panel, to its right. Moving one widens its
  /// column and so narrows every plot: repeated until nothing moves (at most one pass a panel).
  func withLegendsPlaced() -> Figure {
    var f = figure
    for _ in 0..<max(1, f.axes.count) {
      var moved = false
      for (i, panel, _) in Layout(figure: f).panels() where f.axes[i].legend == .best {
        guard let box = panel.legendRect(avoiding: panel.annotationBoxes) else { continue }
        if panel.pointsUnder(box) > 0 || panel.annotationBoxes.contains(where: { $0.intersects(box.insetBy(-3)) }) {
          f.axes[i].legend = .outside
          moved = true
        }
      }
      if !moved { break }
    }
    // Legends and labels outside the plots take their room from the page, not from the plots:
    // the page widens until every plot is at least `minPlotWidth` wide (as wide as the caller
    // asked when that is narrower).
    let asked = Layout(figure: figure).plotRects().map(\.width).min() ?? 0
    let target = min(Layout.minPlotWidth, asked)
    if let w = Layout(figure: f).plotRects().map(\.width).min(), w < target {
      f.width += (target - w) * Double(f.cols)
    }
    return f
  }

  /// The narrowest a plot becomes when legends move outside (points).
  static let minPlotWidth = 180.0

  func scene() -> Scene { Layout(figure: withLegendsPlaced()).drawScene() }

  /// The scene with every legend where the figure puts it.
  func drawScene() -> Scene {
    var prims: [Primitive] = [.path(rectPath(Rect(x: 0, y: 0, width: figure.width, height: figure.height)),
                                    fill: .white, stroke: nil)]
    let pad = Layout.outerPad
    for (_, _, p) in panels() { prims += p }
    if !figure.title.isEmpty {
      prims.append(.text(TextItem(figure.title, at: Point(figure.width / 2, pad), size: Layout.figureTitleFont,
                                  bold: true, hAlign: .center, vAlign: .top)))
    }
    if !figure.caption.isEmpty {
      prims.append(.text(TextItem(figure.caption, at: Point(pad, figure.height - pad + 2), size: Layout.captionFont,
                                  color: .darkGray, hAlign: .left, vAlign: .bottom)))
    }
    return Scene(width: figure.width, height: figure.height, primitives: prims)
  }

  /// The plot area of each subplot (row-major), in points.
  func plotRects() -> [Rect] { plotRects(resolveAll()) }

  func plotRects(_ resolved: [Resolved]) -> [Rect] {
    let pad = Layout.outerPad
    let titleH = figure.title.isEmpty ? 0.0 : TextMetrics.lineHeight(size: Layout.figureTitleFont) + 6
    let captionH = figure.caption.isEmpty ? 0.0 : TextMetrics.lineHeight(size: Layout.captionFont) + 4
    let grid = Rect(x: pad, y: pad + titleH, width: figure.width - 2 * pad,
                    height: figure.height - 2 * pad - titleH - captionH)

    // Margins shared along each column (left, right) and each row (top, bottom), so panels align.
    var left = Array(repeating: 0.0, count: figure.cols), right = left
    var top = Array(repeating: 0.0, count: figure.rows), bottom = top
    for (i, (ax, r)) in zip(figure.axes, resolved).enumerated() {
      let m = margins(ax, r), row = i / figure.cols, col = i % figure.cols
      left[col] = max(left[col], m.left); right[col] = max(right[col], m.right)
      top[row] = max(top[row], m.top); bottom[row] = max(bottom[row], m.bottom)
    }
    // Every plot area gets the same width; a column's margins (tick labels, a legend outside
    // its panels) widen that column rather than squeezing its plots: with equal cells, one
    // legend outside the top-right panel had shrunk that whole column of Fig 2 to a sliver.
    let margins = zip(left, right).map { $0 + $1 }.reduce(0, +)
    let plotW = max(10, (grid.width - Double(figure.cols - 1) * Layout.columnGap - margins) / Double(figure.cols))
    var columnX: [Double] = []
    var x = grid.minX
    for col in 0..<figure.cols {
      columnX.append(x)
      x += left[col] + plotW + right[col] + Layout.columnGap
    }
    let cellH = (grid.height - Double(figure.rows - 1) * Layout.rowGap) / Double(figure.rows)
    var rects: [Rect] = []
    for row in 0..<figure.rows {
      for col in 0..<figure.cols {
        let cy = grid.minY + Double(row) * (cellH + Layout.rowGap)
        rects.append(Rect(x: columnX[col] + left[col], y: cy + top[row], width: plotW,
                          height: max(10, cellH - top[row] - bottom[row])))
      }
    }
    return rects
  }

  // MARK: - Limits

  /// Values that should fit on each axis, and counts of values that cannot be drawn.
  struct Extent {
    var x: [Double] = []
    var y: [Double] = []
    var y2: [Double] = []
    var nonFinite = 0
    var nonPositive = 0
    var points = 0
  }

  func extent(_ ax: Axes) -> Extent {
    var e = Extent()
    let xs = ax.x.scale, ys = ax.y.scale, y2s = ax.y2?.scale ?? .linear
    func addPoints(_ x: [Double], _ y: [Double], _ side: YAxisSide) {
      let sy = side == .left ? ys : y2s
      for (a, b) in zip(x, y) {
        if !a.isFinite || !b.isFinite { e.nonFinite += 1; continue }
        if !xs.accepts(a) || !sy.accepts(b) { e.nonPositive += 1; continue }
        e.points += 1
        e.x.append(a)
        if side == .left { e.y.append(b) } else { e.y2.append(b) }
      }
    }
    for artist in ax.artists {
      switch artist {
      case .line(let l): addPoints(l.x, l.y, l.side)
      case .scatter(let s): addPoints(s.x, s.y, s.side)
      case .bars(let b):
        addPoints(b.x, b.heights, .left)
        for x in b.x where x.isFinite { e.x += [x - b.width / 2, x + b.width / 2] }
        if ys == .linear && !b.x.isEmpty { e.y.append(0) }
      case .reference(let r):
        switch r.kind {
        case .horizontal(let v): if r.side == .left { e.y.append(v) } else { e.y2.append(v) }
        case .vertical(let v): e.x.append(v)
        case .inverse: break
        }
      case .shade(let s):
        switch s.region {
        case .xSpan(let a, let b): e.x += [a, b]
        case .ySpan(let a, let b): if s.side == .left { e.y += [a, b] } else { e.y2 += [a, b] }
        case .between(let x, let lo, let hi):
          e.x += x
          if s.side == .left { e.y += lo + hi } else { e.y2 += lo + hi }
        case .aboveInverse, .belowInverse: break
        }
      case .annotation: break
      }
    }
    return e
  }

  /// Explicit limits if valid for the scale, else automatic ones from `values`.
  func limits(_ axis: Axis, _ values: [Double], notes: inout [String], name: String) -> ClosedRange<Double> {
    if let l = axis.limits {
      let ok = l.lowerBound.isFinite && l.upperBound.isFinite && l.lowerBound < l.upperBound
        && (axis.scale == .linear || l.lowerBound > 0)
      if ok { return l }
      notes.append("invalid \(name) limits ignored")
    }
    if let auto = axis.scale.autoLimits(values), (auto.upperBound - auto.lowerBound).isFinite,
       auto.upperBound > auto.lowerBound {
      return auto
    }
    if !values.isEmpty && axis.scale.autoLimits(values) != nil { notes.append("\(name) range too large") }
    return axis.scale.defaultLimits
  }

  func resolveAll() -> [Resolved] {
    let extents = figure.axes.map(extent)
    var results: [Resolved] = []
    for (ax, e) in zip(figure.axes, extents) {
      var notes: [String] = []
      let xv = figure.sharedX ? extents.flatMap(\.x) : e.x
      let yv = figure.sharedY ? extents.flatMap(\.y) : e.y
      let y2v = figure.sharedY ? extents.flatMap(\.y2) : e.y2
      let x = limits(ax.x, xv, notes: &notes, name: "x")
      let y = limits(ax.y, yv, notes: &notes, name: "y")
      let y2 = ax.y2.map { limits($0, y2v, notes: &notes, name: "right y") }
      if e.nonFinite > 0 { notes.append("\(e.nonFinite) NaN/∞ point\(e.nonFinite == 1 ? "" : "s") not shown") }
      if e.nonPositive > 0 { notes.append("\(e.nonPositive) point\(e.nonPositive == 1 ? "" : "s") ≤ 0 not shown on log axis") }
      let hasData = e.points > 0 || ax.artists.contains { if case .reference = $0 { return true }; if case .shade = $0 { return true }; return false }
      results.append(Resolved(
        x: x, y: y, y2: y2,
        xTicks: ax.x.ticks.map { TickSet(major: $0, minor: []) } ?? ax.x.scale.ticks(in: x, target: 5),
        yTicks: ax.y.ticks.map { TickSet(major: $0, minor: []) } ?? ax.y.scale.ticks(in: y, target: 6),
        y2Ticks: ax.y2.map { a in a.ticks.map { TickSet(major: $0, minor: []) } ?? a.scale.ticks(in: y2 ?? a.scale.defaultLimits, target: 6) },
        notes: notes, hasData: hasData))
    }
    return results
  }

  // MARK: - Margins

  func margins(_ ax: Axes, _ r: Resolved) -> (left: Double, right: Double, top: Double, bottom: Double) {
    let tickLabelH = TextMetrics.lineHeight(size: Layout.tickFont)
    let labelH = TextMetrics.lineHeight(size: Layout.labelFont)
    func yWidth(_ t: TickSet) -> Double { t.major.map { TextMetrics.width($0.label, size: Layout.tickFont) }.max() ?? 0 }
    let left = Layout.majorTick + Layout.tickGap + yWidth(r.yTicks) + (ax.y.label.isEmpty ? 0 : labelH + 4) + 2
    var right = 10.0
    if let t2 = r.y2Ticks, let a2 = ax.y2 {
      right = Layout.majorTick + Layout.tickGap + yWidth(t2) + (a2.label.isEmpty ? 0 : labelH + 4) + 2
    } else if let last = r.xTicks.major.last {
      right = max(6, TextMetrics.width(last.label, size: Layout.tickFont) / 2 + 2)
    }
    let top = ax.title.isEmpty ? 8.0 : TextMetrics.lineHeight(size: Layout.titleFont) + 6
    let notesH = Double(r.notes.count) * TextMetrics.lineHeight(size: Layout.noteFont)
    let bottom = Layout.majorTick + Layout.tickGap + tickLabelH + (ax.x.label.isEmpty ? 0 : labelH + 3) + 2 + notesH
    if ax.legend == .outside { right += PanelLayout.legendSize(ax).width + 8 }
    return (left, right, top, bottom)
  }
}
