import Foundation

/// An sRGB colour with straight (non-premultiplied) alpha, components in [0, 1].
public struct Color: Sendable, Hashable {
  public var red: Double
  public var green: Double
  public var blue: Double
  public var alpha: Double

  public init(red: Double, green: Double, blue: Double, alpha: Double = 1) {
    self.red = red; self.green = green; self.blue = blue; self.alpha = alpha
  }

  /// A colour from a 24-bit `0xRRGGBB` literal.
  public init(hex: UInt32, alpha: Double = 1) {
    self.init(red: Double((hex >> 16) & 0xFF) / 255,
              green: Double((hex >> 8) & 0xFF) / 255,
              blue: Double(hex & 0xFF) / 255, alpha: alpha)
  }

  /// The same colour with another opacity.
  public func withAlpha(_ a: Double) -> Color { Color(red: red, green: green, blue: blue, alpha: a) }

  /// Relative luminance Y = 0.2126 R + 0.7152 G + 0.0722 B on linearised sRGB:
  /// the lightness a greyscale print keeps.
  public var luminance: Double {
    func lin(_ c: Double) -> Double { c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }
    return 0.2126 * lin(red) + 0.7152 * lin(green) + 0.0722 * lin(blue)
  }

  public static let black = Color(red: 0, green: 0, blue: 0)
  public static let white = Color(red: 1, green: 1, blue: 1)
  /// Secondary text (captions, notes).
  public static let darkGray = Color(hex: 0x404040)
  public static let gray = Color(hex: 0x808080)
  /// Grid lines and the fill behind notes.
  public static let lightGray = Color(hex: 0xE0E0E0)
}

extension Color {
  /// CIELAB (D65) of the colour, from sRGB: for distances people see.
  public var lab: (l: Double, a: Double, b: Double) {
    func linear(_ c: Double) -> Double { c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }
    let r = linear(red), g = linear(green), bl = linear(blue)
    let x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * bl) / 0.95047
    let y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * bl
    let z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * bl) / 1.08883
    func f(_ t: Double) -> Double { t > 216.0 / 24389 ? cbrt(t) : (24389.0 / 27 * t + 16) / 116 }
    return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))
  }

  /// CIE76 colour difference ΔE*ab (about 2.3 is just noticeable; series of one panel are
  /// required to differ by at least `Color.minSeriesDifference`).
  public func difference(_ other: Color) -> Double {
    let p = lab, q = other.lab
    return ((p.l - q.l) * (p.l - q.l) + (p.a - q.a) * (p.a - q.a) + (p.b - q.b) * (p.b - q.b)).squareRoot()
  }

  /// The least ΔE*ab between two labelled series of one panel (the geometry tests hold every
  /// figure to it): clearly different side by side, not merely noticeable.
  public static let minSeriesDifference = 10.0
}
