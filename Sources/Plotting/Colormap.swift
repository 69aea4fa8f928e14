/// A sequential colormap for ordered series (warmup lengths, batch sizes).
///
/// The default is viridis (van der Walt & Smith, matplotlib 2.0): perceptually uniform, monotone in
/// lightness (so it survives greyscale printing) and readable with colour-vision deficiencies.
public struct Colormap: Sendable, Hashable {
  /// Anchor colours at evenly spaced positions in [0, 1]; values between are interpolated linearly.
  public var anchors: [Color]

  public init(anchors: [Color]) {
    precondition(anchors.count >= 2, "a colormap needs at least two anchors")
    self.anchors = anchors
  }

  /// viridis sampled at 0, 0.1, …, 1.
  public static let viridis = Colormap(anchors: [
    0x440154, 0x482475, 0x414487, 0x355F8D, 0x2A788E, 0x21918C,
    0x22A884, 0x44BF70, 0x7AD151, 0xBDDF26, 0xFDE725,
  ].map { Color(hex: $0) })

  /// The colour at `t` in [0, 1] (clamped; NaN maps to 0).
  public func color(at t: Double) -> Color {
    let u = t.isNaN ? 0 : Swift.min(1, Swift.max(0, t))
    let pos = u * Double(anchors.count - 1)
    let i = Swift.min(anchors.count - 2, Int(pos))
    let f = pos - Double(i)
    let a = anchors[i], b = anchors[i + 1]
    return Color(red: a.red + (b.red - a.red) * f, green: a.green + (b.green - a.green) * f,
                 blue: a.blue + (b.blue - a.blue) * f, alpha: a.alpha + (b.alpha - a.alpha) * f)
  }

  /// `count` colours for an ordered series, spread over [0, `upTo`]. The default stops at 0.85 because
  /// viridis' last yellow is too light on white.
  public func colors(_ count: Int, upTo: Double = 0.85) -> [Color] {
    guard count > 0 else { return [] }
    if count == 1 { return [color(at: 0)] }
    return (0..<count).map { color(at: upTo * Double($0) / Double(count - 1)) }
  }
}
