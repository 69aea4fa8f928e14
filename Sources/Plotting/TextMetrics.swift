/// Text widths for layout without a font engine, so layout stays pure and never touches Cairo.
///
/// Advance widths of DejaVu Sans in ems (from its hmtx table, rounded); the renderer aligns text with
/// the real extents, so these only size margins and legend boxes, where a few percent does not matter.
public enum TextMetrics {
  /// Estimated advance width of `text` at `size` points.
  public static func width(_ text: String, size: Double, bold: Bool = false) -> Double {
    var ems = 0.0
    for ch in text.unicodeScalars { ems += advance(ch) }
    return ems * size * (bold ? 1.08 : 1)
  }

  /// Height of a line of text (ascender to descender) at `size` points.
  public static func lineHeight(size: Double) -> Double { size * 1.17 }

  private static func advance(_ c: Unicode.Scalar) -> Double {
    switch c {
    case "0"..."9": return 0.636
    case " ", ".", ",", ":", ";", "!", "'", "|": return 0.318
    case "i", "j", "l": return 0.278
    case "f", "t", "r", "(", ")", "[", "]", "/", "\\", "-": return 0.37
    case "m": return 0.974
    case "w": return 0.818
    case "a"..."z": return 0.6
    case "M": return 0.863
    case "W": return 0.989
    case "I", "J": return 0.3
    case "A"..."Z": return 0.72
    case "=", "+", "×", "≈", "<", ">", "≤", "≥", "−": return 0.838
    case "%": return 0.95
    case "₀"..."₉", "⁰"..."⁹", "¹", "²", "³": return 0.4
    case "✕", "●", "▲", "■", "—": return 0.84
    default: return 0.62
    }
  }
}
