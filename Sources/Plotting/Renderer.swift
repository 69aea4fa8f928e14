import Foundation

/// A point in figure coordinates: points (1/72 inch), origin top left, y down.
public struct Point: Sendable, Hashable {
  public var x: Double
  public var y: Double
  public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

/// A rectangle in figure coordinates.
public struct Rect: Sendable, Hashable {
  public var x: Double
  public var y: Double
  public var width: Double
  public var height: Double
  public init(x: Double, y: Double, width: Double, height: Double) {
    self.x = x; self.y = y; self.width = width; self.height = height
  }
  public var minX: Double { x }
  public var maxX: Double { x + width }
  public var minY: Double { y }
  public var maxY: Double { y + height }
  public func contains(_ p: Point) -> Bool { p.x >= minX && p.x <= maxX && p.y >= minY && p.y <= maxY }
  public func intersects(_ r: Rect) -> Bool { r.minX < maxX && r.maxX > minX && r.minY < maxY && r.maxY > minY }
  public func insetBy(_ d: Double) -> Rect { Rect(x: x + d, y: y + d, width: width - 2 * d, height: height - 2 * d) }
}

/// One step of a path.
public enum PathElement: Sendable, Hashable {
  case move(Point)
  case line(Point)
  /// A full circle as its own closed sub-path.
  case circle(center: Point, radius: Double)
  case close
}

/// How a path's outline is drawn.
public struct Stroke: Sendable, Hashable {
  public var color: Color
  public var width: Double
  /// Dash pattern in points; empty for solid.
  public var dash: [Double]
  /// Round caps and joins (markers, data lines) instead of butt/miter (spines, ticks).
  public var round: Bool
  public init(color: Color, width: Double, dash: [Double] = [], round: Bool = false) {
    self.color = color; self.width = width; self.dash = dash; self.round = round
  }
}

/// A run of text placed at an anchor point.
public struct TextItem: Sendable, Hashable {
  public var text: String
  public var at: Point
  public var size: Double
  public var color: Color
  public var bold: Bool
  public var hAlign: HAlign
  public var vAlign: VAlign
  /// Rotation in quarter turns counter-clockwise (1: reading bottom to top, as y-axis labels).
  public var quarterTurns: Int
  public init(_ text: String, at: Point, size: Double, color: Color = .black, bold: Bool = false,
              hAlign: HAlign = .left, vAlign: VAlign = .baseline, quarterTurns: Int = 0) {
    self.text = text; self.at = at; self.size = size; self.color = color; self.bold = bold
    self.hAlign = hAlign; self.vAlign = vAlign; self.quarterTurns = quarterTurns
  }
}

/// A drawing command. The layout emits these; renderers only execute them.
public enum Primitive: Sendable, Hashable {
  case path([PathElement], fill: Color?, stroke: Stroke?)
  case text(TextItem)
  /// Restricts drawing to a rectangle until the matching ``popClip``.
  case pushClip(Rect)
  case popClip
}

/// Everything a renderer needs: the page size and the drawing commands in order.
public struct Scene: Sendable, Hashable {
  public var width: Double
  public var height: Double
  public var primitives: [Primitive]
  public init(width: Double, height: Double, primitives: [Primitive]) {
    self.width = width; self.height = height; self.primitives = primitives
  }
}

/// Errors from rendering and writing figures.
public enum PlotError: Error, CustomStringConvertible, Equatable {
  /// Cairo reported an error status on a surface or context.
  case cairo(operation: String, status: String)
  /// The output file could not be written.
  case unwritable(path: String, reason: String)
  /// A PNG could not be decoded.
  case unreadable(path: String, reason: String)

  public var description: String {
    switch self {
    case .cairo(let op, let status): return "cairo failed in \(op): \(status)"
    case .unwritable(let path, let reason): return "cannot write figure to \(path): \(reason)"
    case .unreadable(let path, let reason): return "cannot read image \(path): \(reason)"
    }
  }
}

/// Turns a ``Scene`` into the bytes of a file format.
public protocol Renderer: Sendable {
  /// The file extension this renderer produces ("png", "svg").
  var fileExtension: String { get }
  /// Encodes the scene. Output is deterministic: the same scene gives the same bytes.
  func render(_ scene: Scene) throws -> [UInt8]
}

extension Renderer {
  /// Renders `scene` and writes it to `path`, throwing ``PlotError/unwritable(path:reason:)`` when the
  /// file cannot be created (missing directory, no permission).
  public func write(_ scene: Scene, to path: String) throws {
    let bytes = try render(scene)
    try writeFile(bytes, to: path)
  }
}

/// Writes bytes atomically, mapping failures to a clear ``PlotError``.
func writeFile(_ bytes: [UInt8], to path: String) throws {
  let url = URL(fileURLWithPath: path)
  let dir = url.deletingLastPathComponent().path
  var isDir: ObjCBool = false
  guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
    throw PlotError.unwritable(path: path, reason: "directory \(dir) does not exist")
  }
  do {
    try Data(bytes).write(to: url, options: .atomic)
  } catch {
    let reason = FileManager.default.isWritableFile(atPath: dir) ? "\(error.localizedDescription)" : "directory \(dir) is not writable"
    throw PlotError.unwritable(path: path, reason: reason)
  }
}
