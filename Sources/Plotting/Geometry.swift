/// Maps data values on one axis to figure coordinates.
struct AxisMap: Sendable {
  let scale: Scale
  let limits: ClosedRange<Double>
  /// Transformed limits (log₁₀ on log axes).
  let u0: Double, u1: Double
  /// Figure coordinates of the lower and upper limit.
  let p0: Double, p1: Double

  init(scale: Scale, limits: ClosedRange<Double>, from p0: Double, to p1: Double) {
    self.scale = scale; self.limits = limits; self.p0 = p0; self.p1 = p1
    self.u0 = scale.forward(limits.lowerBound) ?? 0
    self.u1 = scale.forward(limits.upperBound) ?? 1
  }

  /// The coordinate of `v`, or `nil` when `v` cannot be drawn on this scale.
  func callAsFunction(_ v: Double) -> Double? {
    guard let u = scale.forward(v), u1 != u0 else { return nil }
    let p = p0 + (u - u0) / (u1 - u0) * (p1 - p0)
    return p.isFinite ? Swift.min(1e7, Swift.max(-1e7, p)) : nil
  }

  /// The data value at transformed fraction `t` in [0, 1] of the axis.
  func value(atFraction t: Double) -> Double { scale.inverse(u0 + t * (u1 - u0)) }

  /// Whether `v` lies within the limits (with a relative tolerance).
  func contains(_ v: Double) -> Bool {
    guard let u = scale.forward(v) else { return false }
    let tol = abs(u1 - u0) * 1e-9
    return u >= Swift.min(u0, u1) - tol && u <= Swift.max(u0, u1) + tol
  }
}

/// Liang–Barsky: the part of segment a→b inside `r`, or `nil`.
func clip(_ a: Point, _ b: Point, to r: Rect) -> (Point, Point)? {
  let dx = b.x - a.x, dy = b.y - a.y
  var t0 = 0.0, t1 = 1.0
  for (p, q) in [(-dx, a.x - r.minX), (dx, r.maxX - a.x), (-dy, a.y - r.minY), (dy, r.maxY - a.y)] {
    if p == 0 {
      if q < 0 { return nil }
    } else {
      let t = q / p
      if p < 0 { if t > t1 { return nil }; if t > t0 { t0 = t } }
      else { if t < t0 { return nil }; if t < t1 { t1 = t } }
    }
  }
  return (Point(a.x + t0 * dx, a.y + t0 * dy), Point(a.x + t1 * dx, a.y + t1 * dy))
}

/// A polyline through `points` (`nil` breaks it), clipped to `r`, as path elements.
func polylinePath(_ points: [Point?], clippedTo r: Rect) -> [PathElement] {
  var path: [PathElement] = []
  var pen: Point? = nil
  guard points.count >= 2 else { return [] }
  for i in 1..<points.count {
    guard let a = points[i - 1], let b = points[i], let (c, d) = clip(a, b, to: r) else { pen = nil; continue }
    if let p = pen, p == c { path.append(.line(d)) } else { path.append(.move(c)); path.append(.line(d)) }
    pen = (d == b) ? d : nil
  }
  return path
}

/// The outline of a marker centred at `c` with nominal diameter `size`.
func markerPath(_ marker: Marker, at c: Point, size: Double) -> [PathElement] {
  let r = size / 2
  switch marker {
  case .circle:
    return [.circle(center: c, radius: r)]
  case .cross:
    let h = r * 0.95
    return [.move(Point(c.x - h, c.y - h)), .line(Point(c.x + h, c.y + h)),
            .move(Point(c.x - h, c.y + h)), .line(Point(c.x + h, c.y - h))]
  case .triangle:
    let t = r * 1.2
    return [.move(Point(c.x, c.y - t)), .line(Point(c.x + t * 0.866, c.y + t * 0.5)),
            .line(Point(c.x - t * 0.866, c.y + t * 0.5)), .close]
  case .square:
    let h = r * 0.85
    return [.move(Point(c.x - h, c.y - h)), .line(Point(c.x + h, c.y - h)), .line(Point(c.x + h, c.y + h)),
            .line(Point(c.x - h, c.y + h)), .close]
  case .diamond:
    let h = r * 1.15
    return [.move(Point(c.x, c.y - h)), .line(Point(c.x + h, c.y)), .line(Point(c.x, c.y + h)),
            .line(Point(c.x - h, c.y)), .close]
  }
}

/// A marker as primitives: filled shapes with a thin white edge (so overlapping points stay
/// distinguishable), the ✕ stroked in the series colour.
func markerPrimitive(_ marker: Marker, at c: Point, size: Double, color: Color) -> Primitive {
  let path = markerPath(marker, at: c, size: size)
  if marker == .cross {
    return .path(path, fill: nil, stroke: Stroke(color: color, width: Swift.max(1.2, size * 0.25), round: true))
  }
  return .path(path, fill: color, stroke: Stroke(color: .white, width: 0.5))
}

func rectPath(_ r: Rect) -> [PathElement] {
  [.move(Point(r.minX, r.minY)), .line(Point(r.maxX, r.minY)), .line(Point(r.maxX, r.maxY)),
   .line(Point(r.minX, r.maxY)), .close]
}
