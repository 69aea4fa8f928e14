/// Draws one subplot into its rectangle: artists clipped to the plot area, spines, ticks, labels,
/// title, notes and the legend.
struct PanelLayout {
  let axes: Axes
  let resolved: Layout.Resolved
  let rect: Rect
  let showXLabels: Bool
  let showYLabels: Bool
  let showY2Labels: Bool

  let xMap: AxisMap
  let yMap: AxisMap
  let y2Map: AxisMap?
  /// Figure-space points of everything drawn, so the legend can avoid them.
  var occupied: [Point] = []
  /// The boxes of the annotations drawn (after `primitives()`).
  var annotationBoxes: [Rect] = []

  init(axes: Axes, resolved: Layout.Resolved, rect: Rect, showXLabels: Bool, showYLabels: Bool, showY2Labels: Bool) {
    self.axes = axes; self.resolved = resolved; self.rect = rect
    self.showXLabels = showXLabels; self.showYLabels = showYLabels; self.showY2Labels = showY2Labels
    xMap = AxisMap(scale: axes.x.scale, limits: resolved.x, from: rect.minX, to: rect.maxX)
    yMap = AxisMap(scale: axes.y.scale, limits: resolved.y, from: rect.maxY, to: rect.minY)
    y2Map = resolved.y2.map { AxisMap(scale: axes.y2?.scale ?? .linear, limits: $0, from: rect.maxY, to: rect.minY) }
  }

  /// Slightly larger than the plot area: geometry is cut here, and the clip does the rest.
  var cutRect: Rect { rect.insetBy(-20) }

  func ymap(_ side: YAxisSide) -> AxisMap { side == .right ? (y2Map ?? yMap) : yMap }

  func point(_ x: Double, _ y: Double, _ side: YAxisSide) -> Point? {
    guard let px = xMap(x), let py = ymap(side)(y) else { return nil }
    return Point(px, py)
  }

  mutating func primitives() -> [Primitive] {
    var out: [Primitive] = []
    if axes.grid { out += gridLines() }
    out.append(.pushClip(rect))
    let ordered = axes.artists.enumerated().sorted { ($0.element.zOrder, $0.offset) < ($1.element.zOrder, $1.offset) }
    var annotations: [Annotation] = []
    for (_, artist) in ordered {
      switch artist {
      case .line(let l): out += draw(l)
      case .scatter(let s): out += draw(s)
      case .reference(let r): out += draw(r)
      case .shade(let s): out += draw(s)
      case .bars(let b): out += draw(b)
      case .annotation(let a): annotations.append(a)
      }
    }
    out.append(.popClip)
    out.append(.path(rectPath(rect), fill: nil, stroke: Stroke(color: .black, width: 0.8)))
    out += ticks()
    out += labels()
    var obstacles: [Rect] = []
    for a in annotations { if let (p, r) = place(a, avoiding: obstacles) { out += p; obstacles.append(r) } }
    annotationBoxes = obstacles
    if !resolved.hasData {
      out.append(.text(TextItem("no data", at: Point(rect.minX + rect.width / 2, rect.minY + rect.height / 2),
                                size: Layout.labelFont, color: .gray, hAlign: .center, vAlign: .center)))
    }
    out += notes()
    out += legend(avoiding: obstacles)
    return out
  }

  // MARK: - Artists

  mutating func draw(_ l: Line) -> [Primitive] {
    let pts = zip(l.x, l.y).map { point($0, $1, l.side) }
    occupy(pts)
    var out: [Primitive] = []
    let path = polylinePath(pts, clippedTo: cutRect)
    if !path.isEmpty {
      out.append(.path(path, fill: nil, stroke: Stroke(color: l.color, width: l.width, dash: l.style.dashes(width: l.width), round: true)))
    }
    // A lone finite point between gaps would otherwise be invisible: give it a dot.
    for i in pts.indices {
      guard let p = pts[i] else { continue }
      let isolated = (i == 0 || pts[i - 1] == nil) && (i == pts.count - 1 || pts[i + 1] == nil)
      if let m = l.marker, cutRect.contains(p) { out.append(markerPrimitive(m, at: p, size: 5, color: l.color)) }
      else if isolated && cutRect.contains(p) { out.append(.path([.circle(center: p, radius: l.width * 1.2)], fill: l.color, stroke: nil)) }
    }
    return out
  }

  mutating func draw(_ s: Scatter) -> [Primitive] {
    var out: [Primitive] = []
    for i in s.x.indices {
      guard let p = point(s.x[i], s.y[i], s.side), cutRect.contains(p) else { continue }
      out.append(markerPrimitive(s.markers?[i] ?? s.marker, at: p, size: s.size, color: s.colors?[i] ?? s.color))
      occupied.append(p)
    }
    return out
  }

  /// Records points every few points along a polyline, so the legend avoids lines as well as markers.
  mutating func occupy(_ pts: [Point?]) {
    for i in pts.indices {
      guard let b = pts[i] else { continue }
      if rect.contains(b) { occupied.append(b) }
      guard i > 0, let a = pts[i - 1], let (c, d) = clip(a, b, to: rect) else { continue }
      let n = min(200, Int((abs(d.x - c.x) + abs(d.y - c.y)) / 4))
      if n > 0 { for k in 0..<n { let t = Double(k) / Double(n); occupied.append(Point(c.x + t * (d.x - c.x), c.y + t * (d.y - c.y))) } }
    }
  }

  /// Points along the x range, spaced evenly in the axis' own (possibly logarithmic) space.
  func samples(_ n: Int = 96) -> [Double] { (0...n).map { xMap.value(atFraction: Double($0) / Double(n)) } }

  mutating func draw(_ r: ReferenceLine) -> [Primitive] {
    let map = ymap(r.side)
    var pts: [Point?]
    switch r.kind {
    case .horizontal(let v):
      guard let py = map(v) else { return [] }
      pts = [Point(rect.minX, py), Point(rect.maxX, py)]
    case .vertical(let v):
      guard let px = xMap(v) else { return [] }
      pts = [Point(px, rect.maxY), Point(px, rect.minY)]
    case .inverse(let c):
      pts = samples().map { x in x == 0 ? nil : point(x, c / x, r.side) }
    }
    occupy(pts)
    let path = polylinePath(pts, clippedTo: cutRect)
    guard !path.isEmpty else { return [] }
    return [.path(path, fill: nil, stroke: Stroke(color: r.color, width: r.width, dash: r.style.dashes(width: r.width)))]
  }

  func draw(_ s: ShadedRegion) -> [Primitive] {
    let map = ymap(s.side)
    let top = cutRect.minY, bottom = cutRect.maxY, leftX = cutRect.minX, rightX = cutRect.maxX
    func clampY(_ y: Double) -> Double { Swift.min(bottom, Swift.max(top, y)) }
    func clampX(_ x: Double) -> Double { Swift.min(rightX, Swift.max(leftX, x)) }
    var poly: [Point] = []
    switch s.region {
    case .aboveInverse(let c), .belowInverse(let c):
      let above: Bool
      if case .aboveInverse = s.region { above = true } else { above = false }
      for x in samples() {
        guard let px = xMap(x) else { continue }
        // Where c/x cannot be drawn (x = 0, or c/x ≤ 0 on a log axis) the curve lies below the axes.
        let py = (x != 0 ? map(c / x) : nil) ?? bottom
        poly.append(Point(px, clampY(py)))
      }
      guard let first = poly.first, let last = poly.last else { return [] }
      let edge = above ? top : bottom
      poly += [Point(last.x, edge), Point(first.x, edge)]
    case .xSpan(let a, let b):
      guard let pa = xMap(a), let pb = xMap(b) else { return [] }
      poly = [Point(clampX(pa), top), Point(clampX(pb), top), Point(clampX(pb), bottom), Point(clampX(pa), bottom)]
    case .ySpan(let a, let b):
      guard let pa = map(a), let pb = map(b) else { return [] }
      poly = [Point(leftX, clampY(pa)), Point(rightX, clampY(pa)), Point(rightX, clampY(pb)), Point(leftX, clampY(pb))]
    case .between(let x, let lo, let hi):
      var upper: [Point] = [], lower: [Point] = []
      for i in x.indices {
        guard let px = xMap(x[i]), let a = map(lo[i]), let b = map(hi[i]) else { continue }
        lower.append(Point(clampX(px), clampY(a))); upper.append(Point(clampX(px), clampY(b)))
      }
      poly = upper + lower.reversed()
    }
    guard poly.count >= 3, let first = poly.first else { return [] }
    return [.path([.move(first)] + poly.dropFirst().map { .line($0) } + [.close], fill: s.color, stroke: nil)]
  }

  mutating func draw(_ b: Bars) -> [Primitive] {
    var out: [Primitive] = []
    let base: Double = yMap.scale == .log ? rect.maxY : (yMap(0) ?? rect.maxY)
    for (x, h) in zip(b.x, b.heights) {
      guard let a = xMap(x - b.width / 2), let c = xMap(x + b.width / 2), let top = yMap(h) else { continue }
      let r = Rect(x: Swift.min(a, c), y: Swift.min(top, base), width: abs(c - a), height: abs(top - base))
      out.append(.path(rectPath(r), fill: b.color, stroke: Stroke(color: .white, width: 0.5)))
      occupied += [Point(r.minX, r.minY), Point(r.maxX, r.minY), Point(r.minX + r.width / 2, r.minY + r.height / 2)]
    }
    return out
  }

  /// An annotation where it does not cover an earlier one: a label at a data point that would
  /// overlap one already drawn moves by its own height or width to the nearest free place inside
  /// the plot, with a thin leader line back to its point (Fig 3's letters B and C label
  /// neighbouring runs).
  func place(_ a: Annotation, avoiding placed: [Rect]) -> ([Primitive], Rect)? {
    guard let (prim, box) = draw(a) else { return nil }
    guard placed.contains(where: { $0.intersects(box) }), case .data(let x, let y, let side) = a.position,
          let anchor = point(x, y, side) else { return ([prim], box) }
    let w = box.width + 2, h = box.height
    let moves: [(Double, Double)] = [(0, -h), (0, h), (w, 0), (-w, 0), (w, -h), (-w, -h), (w, h), (-w, h), (0, -2 * h), (0, 2 * h),
                                     (2 * w, 0), (-2 * w, 0)]
    for (mx, my) in moves {
      var moved = a
      moved.dx += mx
      moved.dy -= my
      guard let (p, r) = draw(moved), !placed.contains(where: { $0.intersects(r) }), rect.contains(Point(r.minX, r.minY)),
            rect.contains(Point(r.maxX, r.maxY)) else { continue }
      // The leader runs from the labelled point to the nearest point of the label's box.
      let end = Point(min(max(anchor.x, r.minX), r.maxX), min(max(anchor.y, r.minY), r.maxY))
      let leader = Primitive.path([.move(anchor), .line(end)], fill: nil, stroke: Stroke(color: Color(hex: 0x666666), width: 0.6))
      return ([leader, p], r)
    }
    return ([prim], box)
  }

  /// The text primitive of an annotation and its approximate box, or nil if its anchor is off the axes.
  func draw(_ a: Annotation) -> (Primitive, Rect)? {
    var anchor: Point
    switch a.position {
    case .data(let x, let y, let side):
      guard let p = point(x, y, side), rect.contains(p) else { return nil }
      anchor = p
    case .axes(let fx, let fy):
      anchor = Point(rect.minX + fx * rect.width, rect.maxY - fy * rect.height)
    }
    anchor.x += a.dx; anchor.y -= a.dy
    let w = TextMetrics.width(a.text, size: a.size, bold: a.bold), h = TextMetrics.lineHeight(size: a.size)
    var x0 = a.hAlign == .left ? anchor.x : a.hAlign == .center ? anchor.x - w / 2 : anchor.x - w
    var y0: Double
    switch a.vAlign {
    case .top: y0 = anchor.y
    case .center: y0 = anchor.y - h / 2
    case .bottom, .baseline: y0 = anchor.y - h
    }
    // Keep the text inside the plot area (it is not clipped, so it must not run over tick labels).
    let shiftX = max(0, rect.minX + 2 - x0) - max(0, x0 + w - (rect.maxX - 2))
    let shiftY = max(0, rect.minY + 1 - y0) - max(0, y0 + h - (rect.maxY - 1))
    anchor.x += shiftX; anchor.y += shiftY; x0 += shiftX; y0 += shiftY
    return (.text(TextItem(a.text, at: anchor, size: a.size, color: a.color, bold: a.bold,
                           hAlign: a.hAlign, vAlign: a.vAlign)),
            Rect(x: x0, y: y0, width: w, height: h))
  }

  // MARK: - Axes furniture

  func gridLines() -> [Primitive] {
    var path: [PathElement] = []
    for t in resolved.xTicks.major { if let px = xMap(t.value), xMap.contains(t.value) { path += [.move(Point(px, rect.minY)), .line(Point(px, rect.maxY))] } }
    for t in resolved.yTicks.major { if let py = yMap(t.value), yMap.contains(t.value) { path += [.move(Point(rect.minX, py)), .line(Point(rect.maxX, py))] } }
    return path.isEmpty ? [] : [.path(path, fill: nil, stroke: Stroke(color: Color(hex: 0xEBEBEB), width: 0.6))]
  }

  func ticks() -> [Primitive] {
    var out: [Primitive] = []
    var path: [PathElement] = []
    let f = Layout.tickFont
    // x axis, ticks pointing outwards.
    var xLabels: [(Double, String)] = []
    for t in resolved.xTicks.major where xMap.contains(t.value) {
      guard let px = xMap(t.value) else { continue }
      path += [.move(Point(px, rect.maxY)), .line(Point(px, rect.maxY + Layout.majorTick))]
      xLabels.append((px, t.label))
    }
    for v in resolved.xTicks.minor where xMap.contains(v) {
      guard let px = xMap(v) else { continue }
      path += [.move(Point(px, rect.maxY)), .line(Point(px, rect.maxY + Layout.minorTick))]
    }
    if showXLabels {
      // Thin the labels until neighbours do not overlap.
      var every = 1
      while every < xLabels.count {
        let kept = stride(from: 0, to: xLabels.count, by: every).map { xLabels[$0] }
        let overlap = zip(kept, kept.dropFirst()).contains { a, b in
          (b.0 - a.0) < (TextMetrics.width(a.1, size: f) + TextMetrics.width(b.1, size: f)) / 2 + 4
        }
        if !overlap { break }
        every += 1
      }
      for (i, l) in xLabels.enumerated() where i % every == 0 {
        out.append(.text(TextItem(l.1, at: Point(l.0, rect.maxY + Layout.majorTick + Layout.tickGap), size: f,
                                  hAlign: .center, vAlign: .top)))
      }
    }
    // y axes.
    func yTicks(_ set: TickSet, _ map: AxisMap, right: Bool, labels: Bool) {
      let x0 = right ? rect.maxX : rect.minX, dir = right ? 1.0 : -1.0
      var lastLabelY = -Double.infinity
      for t in set.major.sorted(by: { (map($0.value) ?? 0) > (map($1.value) ?? 0) }) where map.contains(t.value) {
        guard let py = map(t.value) else { continue }
        path += [.move(Point(x0, py)), .line(Point(x0 + dir * Layout.majorTick, py))]
        // Labels from the bottom up; skip one that would overlap its lower neighbour.
        if labels && abs(py - lastLabelY) >= TextMetrics.lineHeight(size: f) {
          out.append(.text(TextItem(t.label, at: Point(x0 + dir * (Layout.majorTick + Layout.tickGap), py), size: f,
                                    hAlign: right ? .left : .right, vAlign: .center)))
          lastLabelY = py
        }
      }
      for v in set.minor where map.contains(v) {
        guard let py = map(v) else { continue }
        path += [.move(Point(x0, py)), .line(Point(x0 + dir * Layout.minorTick, py))]
      }
    }
    yTicks(resolved.yTicks, yMap, right: false, labels: showYLabels)
    if let t2 = resolved.y2Ticks, let m2 = y2Map { yTicks(t2, m2, right: true, labels: showY2Labels) }
    out.insert(.path(path, fill: nil, stroke: Stroke(color: .black, width: 0.7)), at: 0)
    return out
  }

  /// A title may run this far past each side of its plot (over the tick labels, never into
  /// the next column, which is at least a column gap and a tick-label margin away).
  static let titleOverhang = 20.0
  static let minTitleFont = 7.0

  /// The title as drawn: shrunk to fit over its plot (down to `minTitleFont`), then cut with
  /// "…" if it still does not fit; nil without a title.
  func fittedTitle() -> (text: String, size: Double)? {
    guard !axes.title.isEmpty else { return nil }
    let room = rect.width + 2 * Self.titleOverhang
    let full = TextMetrics.width(axes.title, size: Layout.titleFont)
    let size = max(Self.minTitleFont, min(Layout.titleFont, Layout.titleFont * room / max(full, 1)))
    var text = axes.title
    while text.count > 1 && TextMetrics.width(text, size: size) > room {
      text = String(text.dropLast(2)) + "…"
    }
    return (text, size)
  }

  /// The title's box (nil without a title).
  var titleBox: Rect? {
    guard let (text, size) = fittedTitle() else { return nil }
    let w = TextMetrics.width(text, size: size), h = TextMetrics.lineHeight(size: size)
    return Rect(x: rect.minX + rect.width / 2 - w / 2, y: rect.minY - 5 - h, width: w, height: h)
  }

  func labels() -> [Primitive] {
    var out: [Primitive] = []
    let tickLabelH = TextMetrics.lineHeight(size: Layout.tickFont)
    func yLabelWidth(_ t: TickSet?) -> Double {
      t?.major.map { TextMetrics.width($0.label, size: Layout.tickFont) }.max() ?? 0
    }
    if let (text, size) = fittedTitle() {
      out.append(.text(TextItem(text, at: Point(rect.minX + rect.width / 2, rect.minY - 5), size: size,
                                hAlign: .center, vAlign: .bottom)))
    }
    if !axes.x.label.isEmpty && showXLabels {
      out.append(.text(TextItem(axes.x.label, at: Point(rect.minX + rect.width / 2, rect.maxY + Layout.majorTick + Layout.tickGap + tickLabelH + 2),
                                size: Layout.labelFont, hAlign: .center, vAlign: .top)))
    }
    if !axes.y.label.isEmpty && showYLabels {
      let x = rect.minX - Layout.majorTick - Layout.tickGap - yLabelWidth(resolved.yTicks) - 4
      out.append(.text(TextItem(axes.y.label, at: Point(x, rect.minY + rect.height / 2), size: Layout.labelFont,
                                hAlign: .center, vAlign: .bottom, quarterTurns: 1)))
    }
    if let a2 = axes.y2, !a2.label.isEmpty, showY2Labels {
      let x = rect.maxX + Layout.majorTick + Layout.tickGap + yLabelWidth(resolved.y2Ticks) + 4
      out.append(.text(TextItem(a2.label, at: Point(x, rect.minY + rect.height / 2), size: Layout.labelFont,
                                hAlign: .center, vAlign: .top, quarterTurns: 1)))
    }
    return out
  }

  /// Notes about skipped data, in dark red under the x-axis label (the layout reserves the room), so
  /// they never cover data.
  func notes() -> [Primitive] {
    let f = Layout.noteFont, lh = TextMetrics.lineHeight(size: f)
    var y = rect.maxY + Layout.majorTick + Layout.tickGap + TextMetrics.lineHeight(size: Layout.tickFont)
      + (axes.x.label.isEmpty || !showXLabels ? 0 : TextMetrics.lineHeight(size: Layout.labelFont) + 3) + 2
    var out: [Primitive] = []
    for n in resolved.notes {
      out.append(.text(TextItem("⚠ " + n, at: Point(rect.minX, y), size: f, color: Layout.noteColor, hAlign: .left, vAlign: .top)))
      y += lh
    }
    return out
  }

  // MARK: - Legend

  struct Entry { var label: String; var color: Color; var marker: Marker?; var line: LineStyle?; var width: Double; var patch: Bool }

  /// Each labelled line or scatter series' colour and style (line style and marker), by label.
  static func seriesColors(_ axes: Axes) -> [String: SeriesStyle] {
    var out: [String: SeriesStyle] = [:]
    for a in axes.artists {
      switch a {
      case .line(let l): if let t = l.label { out[t] = SeriesStyle(color: l.color, style: "\(l.style)/\(l.marker.map { "\($0)" } ?? "-")") }
      case .scatter(let s): if let t = s.label, s.colors == nil { out[t] = SeriesStyle(color: s.color, style: "scatter/\(s.marker)") }
      default: break
      }
    }
    return out
  }

  static func legendEntries(_ axes: Axes) -> [Entry] {
    var out: [Entry] = []
    for a in axes.artists {
      switch a {
      case .line(let l): if let t = l.label { out.append(Entry(label: t, color: l.color, marker: l.marker, line: l.style, width: l.width, patch: false)) }
      case .scatter(let s): if let t = s.label { out.append(Entry(label: t, color: s.color, marker: s.marker, line: nil, width: 0, patch: false)) }
      case .reference(let r): if let t = r.label { out.append(Entry(label: t, color: r.color, marker: nil, line: r.style, width: r.width, patch: false)) }
      case .shade(let s): if let t = s.label { out.append(Entry(label: t, color: s.color, marker: nil, line: nil, width: 0, patch: true)) }
      case .bars(let b): if let t = b.label { out.append(Entry(label: t, color: b.color, marker: nil, line: nil, width: 0, patch: true)) }
      case .annotation: break
      }
    }
    for e in axes.legendEntries {
      out.append(Entry(label: e.label, color: e.color, marker: e.marker, line: e.line, width: 1.5, patch: e.patch))
    }
    return out
  }

  static let legendRow = TextMetrics.lineHeight(size: Layout.legendFont) + 2
  static let legendPad = 4.0
  static let legendSwatch = 18.0

  /// The legend box size for `axes` (zero when it has no legend).
  static func legendSize(_ axes: Axes) -> (width: Double, height: Double) {
    let entries = legendEntries(axes)
    guard axes.legend != .none, !entries.isEmpty else { return (0, 0) }
    let textW = entries.map { TextMetrics.width($0.label, size: Layout.legendFont) }.max() ?? 0
    return (legendPad + legendSwatch + 4 + textW + legendPad, Double(entries.count) * legendRow + legendPad)
  }

  /// Drawn points (markers and lines) under `box` grown by 3 points: what a legend there would hide.
  func pointsUnder(_ box: Rect) -> Int {
    let grown = box.insetBy(-3)
    return occupied.reduce(0) { $0 + (grown.contains($1) ? 1 : 0) }
  }

  func legend(avoiding obstacles: [Rect]) -> [Primitive] {
    let entries = PanelLayout.legendEntries(axes)
    guard let chosen = legendRect(avoiding: obstacles) else { return [] }
    let f = Layout.legendFont, rowH = PanelLayout.legendRow, pad = PanelLayout.legendPad, swatch = PanelLayout.legendSwatch
    var out: [Primitive] = [.path(rectPath(chosen), fill: Color(hex: 0xFFFFFF, alpha: 0.9), stroke: Stroke(color: Color(hex: 0xCCCCCC), width: 0.6))]
    for (i, e) in entries.enumerated() {
      let cy = chosen.minY + pad / 2 + (Double(i) + 0.5) * rowH
      let sx = chosen.minX + pad
      if e.patch {
        let fill = e.color.alpha < 0.3 ? e.color.withAlpha(0.3) : e.color
        out.append(.path(rectPath(Rect(x: sx + 2, y: cy - 4, width: swatch - 4, height: 8)), fill: fill, stroke: nil))
      }
      if let style = e.line {
        out.append(.path([.move(Point(sx, cy)), .line(Point(sx + swatch, cy))], fill: nil,
                         stroke: Stroke(color: e.color, width: e.width, dash: style.dashes(width: e.width))))
      }
      if let m = e.marker { out.append(markerPrimitive(m, at: Point(sx + swatch / 2, cy), size: 6, color: e.color)) }
      out.append(.text(TextItem(e.label, at: Point(sx + swatch + 4, cy), size: f, hAlign: .left, vAlign: .center)))
    }
    return out
  }

  /// Where the legend goes (nil: no legend): its placement, or for `.best` the candidate box
  /// that hides the fewest drawn points and no annotation.
  func legendRect(avoiding obstacles: [Rect]) -> Rect? {
    // legendSize is (0, 0) exactly when there is no legend (none asked for, or no entries).
    let (w, h) = PanelLayout.legendSize(axes)
    guard w > 0 else { return nil }
    let inset = 4.0
    func box(_ p: LegendPlacement) -> Rect {
      let l = rect.minX + inset, r = rect.maxX - inset - w, t = rect.minY + inset, b = rect.maxY - inset - h
      let cx = rect.minX + (rect.width - w) / 2, cy = rect.minY + (rect.height - h) / 2
      switch p {
      case .upperRight: return Rect(x: r, y: t, width: w, height: h)
      case .upperLeft: return Rect(x: l, y: t, width: w, height: h)
      case .lowerLeft: return Rect(x: l, y: b, width: w, height: h)
      case .lowerRight: return Rect(x: r, y: b, width: w, height: h)
      case .outside:
        var rightOfTicks = rect.maxX + 6
        if let t2 = resolved.y2Ticks {
          rightOfTicks = rect.maxX + Layout.majorTick + Layout.tickGap + 4
            + (t2.major.map { TextMetrics.width($0.label, size: Layout.tickFont) }.max() ?? 0)
            + ((axes.y2?.label.isEmpty ?? true) ? 0 : TextMetrics.lineHeight(size: Layout.labelFont) + 4)
        }
        return Rect(x: rightOfTicks + 2, y: t - inset, width: w, height: h)
      case .best, .none:
        _ = (cx, cy)
        return Rect(x: r, y: t, width: w, height: h)
      }
    }
    var chosen: Rect
    if axes.legend == .best {
      let cx = rect.minX + (rect.width - w) / 2, cy = rect.minY + (rect.height - h) / 2
      let candidates = [box(.upperRight), box(.upperLeft), box(.lowerLeft), box(.lowerRight),
                        Rect(x: cx, y: rect.minY + inset, width: w, height: h),
                        Rect(x: cx, y: rect.maxY - inset - h, width: w, height: h),
                        Rect(x: rect.maxX - inset - w, y: cy, width: w, height: h),
                        Rect(x: rect.minX + inset, y: cy, width: w, height: h)]
      func score(_ r: Rect) -> Int { pointsUnder(r) + obstacles.reduce(0) { $0 + ($1.intersects(r.insetBy(-3)) ? 1000 : 0) } }
      chosen = candidates[0]
      var best = score(chosen)
      for c in candidates.dropFirst() { let s = score(c); if s < best { best = s; chosen = c } }
    } else {
      chosen = box(axes.legend)
    }
    return chosen
  }
}
