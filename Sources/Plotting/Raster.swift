/// Decoded pixels of a rendered or read-back PNG, for checking what was drawn.
public struct RasterImage: Sendable, Hashable {
  public var width: Int
  public var height: Int
  /// Straight-alpha RGBA, 4 bytes per pixel, rows top to bottom.
  public var rgba: [UInt8]

  public init(width: Int, height: Int, rgba: [UInt8]) {
    precondition(rgba.count == width * height * 4, "RasterImage: \(width)×\(height) needs \(width * height * 4) bytes")
    self.width = width; self.height = height; self.rgba = rgba
  }

  /// The colour at pixel (x, y), origin top left.
  public func color(x: Int, y: Int) -> Color {
    precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)×\(height)")
    let i = (y * width + x) * 4
    return Color(red: Double(rgba[i]) / 255, green: Double(rgba[i + 1]) / 255, blue: Double(rgba[i + 2]) / 255,
                 alpha: Double(rgba[i + 3]) / 255)
  }
}
