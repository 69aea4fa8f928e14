import Foundation
import Testing
@testable import Plotting

@Suite("Gallery")
struct GalleryTests {
  @Test("renders every page as a decodable PNG and a finished SVG, deterministically")
  func rendersGallery() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plotting-gallery-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let paths = try renderGallery(to: dir)
    #expect(paths.count == 13)
    for p in paths {
      let data = try #require(FileManager.default.contents(atPath: p))
      #expect(data.count > 500, "\(p) is suspiciously small")
      if p.hasSuffix(".png") {
        let img = try RasterImage(contentsOfPNG: p)
        #expect(img.width >= 1000)
      } else if p.hasSuffix(".svg") {
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("</svg>"))
      }
    }
    // Render a second time: byte-identical files.
    let dir2 = dir + "-again"
    defer { try? FileManager.default.removeItem(atPath: dir2) }
    let again = try renderGallery(to: dir2)
    for (a, b) in zip(paths, again) {
      #expect(FileManager.default.contents(atPath: a) == FileManager.default.contents(atPath: b), "\(a) differs between runs")
    }
    if let keep = ProcessInfo.processInfo.environment["GALLERY_OUT"] { _ = try renderGallery(to: keep) }
  }
}
