import CCairo
import Foundation

// The only file that talks to Cairo. Every cairo_t lives inside one function call; surfaces are
// checked for errors before their bytes are used.

/// Renders scenes to PNG with Cairo's image surface, at `scale` device pixels per point
/// (2 by default: crisp on high-density screens and in print).
public struct PNGRenderer: Renderer {
  public var scale: Double
  public init(scale: Double = 2) {
    precondition(scale > 0 && scale.isFinite, "PNGRenderer: scale must be positive")
    self.scale = scale
  }
  public var fileExtension: String { "png" }

  public func render(_ scene: Scene) throws -> [UInt8] {
    try withImageSurface(scene) { surface in
      let sink = ByteSink()
      let status = withExtendedLifetime(sink) {
        cairo_surface_write_to_png_stream(surface, { closure, data, length in
          guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
          Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue().bytes
            .append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
          return CAIRO_STATUS_SUCCESS
        }, Unmanaged.passUnretained(sink).toOpaque())
      }
      try check(status, "cairo_surface_write_to_png_stream")
      return sink.bytes
    }
  }

  /// Renders to pixels without encoding, for tests and previews.
  public func rasterize(_ scene: Scene) throws -> RasterImage {
    try withImageSurface(scene) { surface in try RasterImage(surface: surface) }
  }

  private func withImageSurface<T>(_ scene: Scene, _ body: (OpaquePointer) throws -> T) throws -> T {
    let w = Int32((scene.width * scale).rounded(.up)), h = Int32((scene.height * scale).rounded(.up))
    guard w > 0, h > 0, let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h) else {
      throw PlotError.cairo(operation: "cairo_image_surface_create", status: "invalid size \(w)×\(h)")
    }
    defer { cairo_surface_destroy(surface) }
    try check(cairo_surface_status(surface), "cairo_image_surface_create")
    cairo_surface_set_device_scale(surface, scale, scale)
    try draw(scene, on: surface)
    cairo_surface_flush(surface)
    try check(cairo_surface_status(surface), "drawing PNG")
    return try body(surface)
  }
}

/// Renders scenes to SVG 1.1 with Cairo's SVG surface (text as glyph outlines, so the file shows the
/// same everywhere).
public struct SVGRenderer: Renderer {
  public init() {}
  public var fileExtension: String { "svg" }

  public func render(_ scene: Scene) throws -> [UInt8] {
    let sink = ByteSink()
    try withExtendedLifetime(sink) {
      guard let surface = cairo_svg_surface_create_for_stream({ closure, data, length in
        guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
        Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue().bytes
          .append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
        return CAIRO_STATUS_SUCCESS
      }, Unmanaged.passUnretained(sink).toOpaque(), scene.width, scene.height) else {
        throw PlotError.cairo(operation: "cairo_svg_surface_create_for_stream", status: "NULL surface")
      }
      defer { cairo_surface_destroy(surface) }
      try check(cairo_surface_status(surface), "cairo_svg_surface_create_for_stream")
      cairo_svg_surface_restrict_to_version(surface, CAIRO_SVG_VERSION_1_1)
      try draw(scene, on: surface)
      cairo_surface_finish(surface)
      try check(cairo_surface_status(surface), "cairo_surface_finish (SVG)")
    }
    return renumberSurfaceIDs(sink.bytes)
  }
}

/// Cairo 1.16 names the SVG root group `surface<N>` with a process-wide counter, so the second figure a
/// process renders would differ from the first. Renumbering the ids in order of appearance makes the
/// bytes depend on the scene alone.
func renumberSurfaceIDs(_ bytes: [UInt8]) -> [UInt8] {
  let key = Array("surface".utf8)
  var out: [UInt8] = []
  out.reserveCapacity(bytes.count)
  var mapping: [ArraySlice<UInt8>: Int] = [:]
  var i = 0
  while i < bytes.count {
    if bytes[i] == key[0], i + key.count < bytes.count, bytes[i..<(i + key.count)].elementsEqual(key) {
      var j = i + key.count
      while j < bytes.count, bytes[j] >= 0x30, bytes[j] <= 0x39 { j += 1 }
      if j > i + key.count {
        let digits = bytes[(i + key.count)..<j]
        let n = mapping[digits] ?? (mapping.count + 1)
        mapping[digits] = n
        out += key
        out += Array(String(n).utf8)
        i = j
        continue
      }
    }
    out.append(bytes[i])
    i += 1
  }
  return out
}

extension RasterImage {
  /// Decodes PNG bytes (with Cairo's PNG reader).
  public init(pngData bytes: [UInt8], name: String = "PNG data") throws {
    let source = ByteSource(bytes)
    let surface: OpaquePointer? = withExtendedLifetime(source) {
      cairo_image_surface_create_from_png_stream({ closure, data, length in
        guard let closure, let data else { return CAIRO_STATUS_READ_ERROR }
        let src = Unmanaged<ByteSource>.fromOpaque(closure).takeUnretainedValue()
        let n = Int(length)
        guard src.offset + n <= src.bytes.count else { return CAIRO_STATUS_READ_ERROR }
        src.bytes.withUnsafeBufferPointer { buf in
          guard let base = buf.baseAddress else { return }
          data.update(from: base + src.offset, count: n)
        }
        src.offset += n
        return CAIRO_STATUS_SUCCESS
      }, Unmanaged.passUnretained(source).toOpaque())
    }
    guard let surface else { throw PlotError.unreadable(path: name, reason: "cairo returned no surface") }
    defer { cairo_surface_destroy(surface) }
    let status = cairo_surface_status(surface)
    guard status == CAIRO_STATUS_SUCCESS else {
      throw PlotError.unreadable(path: name, reason: String(cString: cairo_status_to_string(status)))
    }
    try self.init(surface: surface)
  }

  /// Reads a PNG file.
  public init(contentsOfPNG path: String) throws {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw PlotError.unreadable(path: path, reason: "no such file")
    }
    try self.init(pngData: [UInt8](data), name: path)
  }

  /// Copies an ARGB32/RGB24 image surface, un-premultiplying alpha.
  fileprivate init(surface: OpaquePointer) throws {
    cairo_surface_flush(surface)
    let w = Int(cairo_image_surface_get_width(surface)), h = Int(cairo_image_surface_get_height(surface))
    let stride = Int(cairo_image_surface_get_stride(surface))
    let format = cairo_image_surface_get_format(surface)
    guard format == CAIRO_FORMAT_ARGB32 || format == CAIRO_FORMAT_RGB24, let data = cairo_image_surface_get_data(surface) else {
      throw PlotError.unreadable(path: "image surface", reason: "unsupported pixel format")
    }
    var rgba = [UInt8](repeating: 0, count: w * h * 4)
    let hasAlpha = format == CAIRO_FORMAT_ARGB32
    for y in 0..<h {
      let row = UnsafeRawPointer(data + y * stride)
      for x in 0..<w {
        let px = row.loadUnaligned(fromByteOffset: x * 4, as: UInt32.self)
        let a = hasAlpha ? UInt32((px >> 24) & 0xFF) : 255
        var r = (px >> 16) & 0xFF, g = (px >> 8) & 0xFF, b = px & 0xFF
        if a > 0 && a < 255 { r = min(255, (r * 255 + a / 2) / a); g = min(255, (g * 255 + a / 2) / a); b = min(255, (b * 255 + a / 2) / a) }
        let i = (y * w + x) * 4
        rgba[i] = UInt8(r); rgba[i + 1] = UInt8(g); rgba[i + 2] = UInt8(b); rgba[i + 3] = UInt8(a)
      }
    }
    self.init(width: w, height: h, rgba: rgba)
  }
}

// MARK: - Drawing

private final class ByteSink { var bytes: [UInt8] = [] }
private final class ByteSource {
  let bytes: [UInt8]
  var offset = 0
  init(_ bytes: [UInt8]) { self.bytes = bytes }
}

private func check(_ status: cairo_status_t, _ operation: String) throws {
  guard status == CAIRO_STATUS_SUCCESS else {
    throw PlotError.cairo(operation: operation, status: String(cString: cairo_status_to_string(status)))
  }
}

/// Executes the scene's primitives on `surface`; the cairo_t never leaves this function.
private func draw(_ scene: Scene, on surface: OpaquePointer) throws {
  guard let cr = cairo_create(surface) else { throw PlotError.cairo(operation: "cairo_create", status: "NULL context") }
  defer { cairo_destroy(cr) }
  try check(cairo_status(cr), "cairo_create")
  // Unhinted metrics: glyph positions do not depend on the device scale, so PNG and SVG agree.
  if let options = cairo_font_options_create() {
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
    cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
    cairo_set_font_options(cr, options)
    cairo_font_options_destroy(options)
  }
  for p in scene.primitives {
    switch p {
    case .pushClip(let r):
      cairo_save(cr)
      cairo_rectangle(cr, r.x, r.y, r.width, r.height)
      cairo_clip(cr)
    case .popClip:
      cairo_restore(cr)
    case .path(let elements, let fill, let stroke):
      cairo_new_path(cr)
      for e in elements {
        switch e {
        case .move(let q): cairo_move_to(cr, q.x, q.y)
        case .line(let q): cairo_line_to(cr, q.x, q.y)
        case .close: cairo_close_path(cr)
        case .circle(let c, let r):
          cairo_new_sub_path(cr)
          cairo_arc(cr, c.x, c.y, r, 0, 2 * Double.pi)
          cairo_close_path(cr)
        }
      }
      if let f = fill {
        setColor(cr, f)
        if stroke != nil { cairo_fill_preserve(cr) } else { cairo_fill(cr) }
      }
      if let s = stroke {
        setColor(cr, s.color)
        cairo_set_line_width(cr, s.width)
        cairo_set_line_cap(cr, s.round ? CAIRO_LINE_CAP_ROUND : CAIRO_LINE_CAP_BUTT)
        cairo_set_line_join(cr, s.round ? CAIRO_LINE_JOIN_ROUND : CAIRO_LINE_JOIN_MITER)
        s.dash.withUnsafeBufferPointer { buf in cairo_set_dash(cr, buf.baseAddress, Int32(buf.count), 0) }
        cairo_stroke(cr)
      }
      cairo_new_path(cr)
    case .text(let t):
      drawText(cr, t)
    }
  }
  try check(cairo_status(cr), "drawing")
}

private func setColor(_ cr: OpaquePointer, _ c: Color) {
  cairo_set_source_rgba(cr, c.red, c.green, c.blue, c.alpha)
}

private func drawText(_ cr: OpaquePointer, _ t: TextItem) {
  guard !t.text.isEmpty else { return }
  cairo_save(cr)
  defer { cairo_restore(cr) }
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         t.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
  cairo_set_font_size(cr, t.size)
  var ext = cairo_text_extents_t()
  cairo_text_extents(cr, t.text, &ext)
  cairo_translate(cr, t.at.x, t.at.y)
  if t.quarterTurns != 0 { cairo_rotate(cr, -Double(t.quarterTurns) * Double.pi / 2) }
  let dx: Double
  switch t.hAlign {
  case .left: dx = 0
  case .center: dx = -ext.x_advance / 2
  case .right: dx = -ext.x_advance
  }
  // Fixed fractions of the size (DejaVu Sans: cap height 0.73 em, descender 0.24 em) keep the
  // baseline independent of which glyphs the string happens to contain.
  let dy: Double
  switch t.vAlign {
  case .baseline: dy = 0
  case .top: dy = 0.76 * t.size
  case .center: dy = 0.365 * t.size
  case .bottom: dy = -0.24 * t.size
  }
  setColor(cr, t.color)
  cairo_move_to(cr, dx, dy)
  cairo_show_text(cr, t.text)
  cairo_new_path(cr)
}
