import Foundation

/// Renders a gallery of every artist and a mock-up of each figure type of Gilmer et al. (2022) from
/// synthetic, deterministic data, as PNG (2×) and SVG, plus a Markdown table. Creates `directory` if
/// needed and returns the written paths in order.
///
/// The data are invented to look like the paper's, not measured: the caption of every page says so.
public func renderGallery(to directory: String, caption: String = "synthetic data for the gallery · not a result") throws -> [String] {
  do {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  } catch {
    throw PlotError.unwritable(path: directory, reason: "cannot create directory (\(error.localizedDescription))")
  }
  let base = URL(fileURLWithPath: directory)
  var written: [String] = []
  for (name, fig) in GalleryPages.all(caption) {
    written += try fig.write(basePath: base.appendingPathComponent(name).path)
  }
  let tablePath = base.appendingPathComponent("table.md").path
  try writeFile(Array(GalleryPages.table().utf8), to: tablePath)
  written.append(tablePath)
  return written
}

/// A small deterministic generator (SplitMix64) so the gallery is identical run to run.
private struct GalleryRNG {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  /// Uniform in [0, 1).
  mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
  /// Uniform in [a, b).
  mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }
}

private func logspace(_ a: Double, _ b: Double, _ n: Int) -> [Double] {
  (0..<n).map { pow(10, a + (b - a) * Double($0) / Double(max(1, n - 1))) }
}

enum GalleryPages {
  /// Every page of the gallery, by file name.
  static func all(_ caption: String) -> [(String, Figure)] {
    [("artists", artists(caption)), ("stability", stability(caption)), ("timeseries", timeSeries(caption)),
     ("warmup", warmup(caption)), ("batch_scaling", batchScaling(caption)), ("robustness", robustness(caption))]
  }

  // MARK: Every artist

  static func artists(_ caption: String) -> Figure {
    var fig = Figure(rows: 2, cols: 3, title: "Gallery: every artist", caption: caption)
    var rng = GalleryRNG(state: 1)

    var markers = Axes(title: "Markers and palette", x: Axis(label: "x"), y: Axis(label: "y"))
    for (i, m) in [Marker.circle, .triangle, .square, .diamond, .cross].enumerated() {
      let xs = (0..<6).map { Double($0) + rng.uniform(-0.2, 0.2) }
      markers.scatter(x: xs, y: xs.map { 0.5 * $0 + Double(i) * 1.5 + rng.uniform(-0.3, 0.3) },
                      color: Palette.color(i), marker: m, label: "\(m)")
    }
    markers.y.limits = -0.5...13
    fig[0, 0] = markers

    var lines = Axes(title: "Line styles", x: Axis(label: "step"), y: Axis(label: "loss"))
    let t = (0...60).map { Double($0) }
    for (i, s) in [LineStyle.solid, .dashed, .dotted, .dashDot].enumerated() {
      lines.plot(x: t, y: t.map { exp(-$0 / (10 + 8 * Double(i))) + 0.05 * Double(i) }, style: s, label: "\(s)")
    }
    fig[0, 1] = lines

    var refs = Axes(title: "Thresholds c/η", x: Axis(scale: .log, label: "learning rate η"),
                    y: Axis(scale: .log, label: "λ₁", limits: 0.1...1e5), grid: true)
    refs.shade(.aboveInverse(c: 2), label: "λ₁ > 2/η")
    refs.reference(.inverse(c: 2), label: "2/η")
    refs.reference(.inverse(c: 3.8), color: Palette.blue, style: .dotted, label: "(2+2β)/η, β = 0.9")
    refs.reference(.inverse(c: 38), color: Palette.vermillion, style: .dashDot, label: "38/η")
    refs.reference(.inverse(c: 40), color: Palette.bluishGreen, label: "40/η")
    refs.reference(.horizontal(1), color: .gray, style: .solid, width: 0.8)
    refs.reference(.vertical(0.01), color: .gray, style: .solid, width: 0.8)
    refs.scatter(x: [1e-4, 1e-3, 1e-2], y: [1e4, 1e3, 1e2], color: .black, size: 4)
    refs.annotate("λ₁ = 1", at: .data(x: 0.5, y: 1, side: .left), dx: 0, dy: 2, size: 7, color: .darkGray, hAlign: .right)
    refs.annotate("η = 0.01", at: .data(x: 0.01, y: 0.15, side: .left), dx: 3, size: 7, color: .darkGray)
    refs.x.limits = 1e-4...1
    fig[0, 2] = refs

    var cmap = Axes(title: "Colormap: warmup length", x: Axis(label: "step"), y: Axis(scale: .log, label: "λ₁"))
    let warmups = [0, 250, 500, 1000, 2000]
    let colors = Colormap.viridis.colors(warmups.count)
    let steps = stride(from: 0.0, through: 3000, by: 30).map { $0 }
    for (w, c) in zip(warmups, colors) {
      cmap.plot(x: steps, y: steps.map { s in
        let eta = 0.5 * (w == 0 ? 1 : min(1, max(0.004, s / Double(w))))
        return min(60, 1.9 / eta) * (1 + 0.08 * sin(s / 37 + Double(w)))
      }, color: c, width: 1.2, label: "warmup \(w)")
    }
    fig[1, 0] = cmap

    var twin = Axes(title: "Twin axis and letters", x: Axis(label: "step"), y: Axis(scale: .log, label: "λ₁"),
                    y2: Axis(label: "η"))
    let s2 = (0...100).map { Double($0) * 10 }
    let eta = s2.map { 0.1 * min(1, max(0.01, $0 / 600)) }
    twin.plot(x: s2, y: zip(s2, eta).map { s, e in min(50, 1.8 / e) * (1 + 0.1 * sin(s / 23)) }, color: Palette.blue, label: "λ₁")
    twin.plot(x: s2, y: eta.map { 2 / $0 }, color: .black, width: 1, style: .dashed, label: "2/η")
    twin.plot(x: s2, y: eta, color: Palette.orange, width: 1.2, style: .dotted, label: "η (right)", side: .right)
    twin.panelLetter("A")
    twin.annotate("B", at: .data(x: 600, y: 20, side: .left), dx: 2, dy: 2, size: 9, bold: true)
    fig[1, 1] = twin

    var bars = Axes(title: "Bars: max trainable η", x: Axis(label: "", limits: -0.6...3.6, ticks: [
      Tick(value: 0, label: "BN"), Tick(value: 1, label: "no BN"), Tick(value: 2, label: "MetaInit"), Tick(value: 3, label: "warmup"),
    ]), y: Axis(scale: .log, label: "max stable η"), legend: .upperLeft)
    bars.bar(x: [0, 1, 2, 3], heights: [1.0, 0.03, 0.3, 0.5], width: 0.6, color: Palette.blue, label: "WRN 28-10")
    bars.y.limits = 0.01...3
    fig[1, 2] = bars
    return fig
  }

  // MARK: Figures 2 and 3 (top): λ₁ against η

  static func stability(_ caption: String) -> Figure {
    var fig = Figure(rows: 1, cols: 2, width: 680, height: 280,
                     title: "Curvature and learning rate (cf. Gilmer et al. Fig. 2, 3)", caption: caption)
    var rng = GalleryRNG(state: 2)
    let models: [(String, Double)] = [("WRN w/ BN", 4), ("WRN no BN", 60), ("WRN no BN, 1.5× init", 700)]
    let etas = logspace(-3, 0, 7)
    var initial = Axes(title: "At initialization", x: Axis(scale: .log, label: "peak learning rate η"),
                       y: Axis(scale: .log, label: "λ₁ at initialization"))
    var mid = Axes(title: "During training (step 500)", x: Axis(scale: .log, label: "learning rate η"),
                   y: Axis(scale: .log, label: "λ₁"))
    for ax in [0, 1] {
      var a = ax == 0 ? initial : mid
      a.shade(.aboveInverse(c: 2))
      a.reference(.inverse(c: 2), label: "2/η")
      if ax == 0 { initial = a } else { mid = a }
    }
    var letterPoints: [(Double, Double)] = []
    for (i, (name, lam0)) in models.enumerated() {
      var x0: [Double] = [], y0: [Double] = [], m0: [Marker] = []
      var x1: [Double] = [], y1: [Double] = [], m1: [Marker] = []
      for eta in etas {
        let l0 = lam0 * rng.uniform(0.8, 1.25)
        let diverged = eta * l0 > 12
        let shift = pow(10, 0.04 * (Double(i) - 1))   // the paper's small deterministic x shift
        x0.append(eta * shift); y0.append(l0); m0.append(diverged ? .cross : .circle)
        let l1 = diverged ? (2 / eta) * rng.uniform(1.6, 3) : min(l0, (2 / eta) * rng.uniform(0.45, 1.05))
        x1.append(eta * shift); y1.append(l1); m1.append(diverged ? .cross : .circle)
        if i == 1 && eta > 0.09 && eta < 0.11 { letterPoints.append((eta * shift, l0)) }
        if i == 0 && eta > 0.09 && eta < 0.11 { letterPoints.append((eta * shift, l0)) }
      }
      initial.scatter(x: x0, y: y0, color: Palette.color(i), markers: m0, label: name)
      mid.scatter(x: x1, y: y1, color: Palette.color(i), markers: m1, label: name)
    }
    // One legend for both panels, outside the right one: the scatter fills every corner.
    initial.legend = .none
    mid.legend = .outside
    mid.legendEntries = [LegendEntry(label: "diverged", color: .black, marker: .cross),
                         LegendEntry(label: "unstable: λ₁ > 2/η", color: Palette.unstableFill, patch: true)]
    for (k, (x, y)) in letterPoints.enumerated() {
      initial.annotate(["B", "A", "C"][k % 3], at: .data(x: x, y: y, side: .left), dx: 5, dy: 3, size: 9, bold: true)
    }
    fig[0, 0] = initial
    fig[0, 1] = mid
    return fig
  }

  // MARK: Figure 3 (bottom): λ₁ and η against step

  static func timeSeries(_ caption: String) -> Figure {
    var fig = Figure(rows: 2, cols: 3, title: "λ₁ and η during training (cf. Fig. 3, bottom row)", caption: caption)
    var rng = GalleryRNG(state: 3)
    let runs: [(letter: String, title: String, warmup: Double, lam0: Double, diverge: Int?)] = [
      ("A", "no warmup, η = 0.1", 0, 80, 4),
      ("B", "warmup 1000, η = 0.1", 1000, 80, nil),
      ("C", "MetaInit, η = 0.1", 0, 12, nil),
      ("D", "BN, η = 1", 0, 3, nil),
      ("E", "warmup 200, η = 0.1", 200, 80, 260),
      ("F", "warmup 4000, η = 0.1", 4000, 80, nil),
    ]
    for (k, run) in runs.enumerated() {
      let peak = run.title.hasSuffix("1") && !run.title.hasSuffix("0.1") ? 1.0 : 0.1
      let last = run.diverge ?? 2000
      let steps = (0...last).filter { $0 < 50 || $0 % 10 == 0 }.map(Double.init)
      let eta = steps.map { s in run.warmup == 0 ? peak : peak * max(0.001, min(1, s / run.warmup)) }
      var lam: [Double] = []
      var current = run.lam0
      for (s, e) in zip(steps, eta) {
        let bound = 2 / e
        if let d = run.diverge, Int(s) >= d - 2 { current *= 2.5 }
        else if current > bound { current = bound * rng.uniform(0.9, 1.08) }
        else { current = min(current * rng.uniform(0.98, 1.03) + 0.002 * s / 100, bound * 1.05) }
        lam.append(current)
      }
      var ax = Axes(title: run.title, x: Axis(label: "step"), y: Axis(scale: .log, label: "λ₁"),
                    y2: Axis(scale: .log, label: "η"), legend: k == 1 ? .best : .none)
      ax.plot(x: steps, y: lam, color: Palette.blue, label: "λ₁")
      ax.plot(x: steps, y: eta.map { 2 / $0 }, color: .black, width: 1, style: .dashed, label: "2/η")
      ax.plot(x: steps, y: eta, color: Palette.orange, width: 1.2, style: .dotted, label: "η (right)", side: .right)
      if let d = run.diverge, let l = lam.last {
        ax.scatter(x: [Double(d)], y: [l], color: Palette.vermillion, marker: .cross, size: 8)
        ax.annotate("diverged", at: .data(x: Double(d), y: l, side: .left), dx: -6, dy: 6, size: 7,
                    color: Palette.vermillion, hAlign: .right, vAlign: .bottom)
      }
      ax.panelLetter(run.letter)
      ax.x.limits = 0...(Double(max(last, 50)) * 1.04)
      ax.y.limits = 0.5...2000
      ax.y2?.limits = 1e-4...2
      fig.axes[k] = ax
    }
    return fig
  }

  // MARK: Figure 4: warmup pushes λ₁ down

  static func warmup(_ caption: String) -> Figure {
    var fig = Figure(rows: 1, cols: 2, width: 660, height: 260,
                     title: "Warmup “pushes” λ₁ below 2/η (cf. Fig. 4)", caption: caption)
    let warmups = [250, 500, 1000, 2000, 4000]
    let colors = Colormap.viridis.colors(warmups.count)
    for (panel, peak) in [0.5, 0.1].enumerated() {
      var rng = GalleryRNG(state: UInt64(40 + panel))
      var ax = Axes(title: panel == 0 ? "Transformer, η = 0.5" : "ResNet-50, η = 0.1",
                    x: Axis(label: "step"), y: Axis(scale: .log, label: "λ₁  (solid),  2/η  (dashed)"),
                    legend: panel == 1 ? .outside : .none)   // curves fill every corner: one legend, outside
      let steps = stride(from: 0.0, through: 6000, by: 40).map { $0 }
      for (w, c) in zip(warmups, colors) {
        let eta = steps.map { peak * max(0.002, min(1, $0 / Double(w))) }
        var current = 90.0
        var lam: [Double] = []
        for e in eta {
          current = min(current * rng.uniform(0.99, 1.02), 2 / e * rng.uniform(0.85, 1.0))
          lam.append(current)
        }
        ax.plot(x: steps, y: lam, color: c, width: 1.3, label: "warmup \(w)")
        ax.plot(x: steps, y: eta.map { 2 / $0 }, color: c, width: 1, style: .dashed)
      }
      ax.y.limits = 1...200
      fig[0, panel] = ax
    }
    return fig
  }

  // MARK: Figure 6: batch-size scaling

  static func batchScaling(_ caption: String) -> Figure {
    var fig = Figure(rows: 2, cols: 2, width: 540, height: 440,
                     title: "Large-curvature models scale poorly with batch size (cf. Fig. 6)", caption: caption)
    var rng = GalleryRNG(state: 6)
    let batches = (4...12).map { pow(2, Double($0)) }
    let models: [(String, Double, Marker)] = [("low curvature (BN)", 1.0, .circle),
                                              ("medium (no BN)", 0.55, .square),
                                              ("high (no BN, 1.5× init)", 0.12, .triangle)]
    var steps = Axes(title: "Steps to 85 % (normalised at B = 64)", x: Axis(scale: .log, label: "batch size"),
                     y: Axis(scale: .log, label: "relative steps"), grid: true)
    var lr = Axes(title: "Optimal learning rate", x: Axis(scale: .log, label: "batch size"),
                  y: Axis(scale: .log, label: "optimal η"), grid: true)
    for (i, (name, alpha, marker)) in models.enumerated() {
      // Steps ∝ (64/B)^α: α = 1 is perfect scaling.
      steps.plot(x: batches, y: batches.map { pow(64 / $0, alpha) * rng.uniform(0.93, 1.07) },
                 color: Palette.color(i), label: name, marker: marker)
      lr.plot(x: batches, y: batches.map { b in i == 2 ? 3e-3 : min(1, 0.05 * pow(b / 64, alpha)) * rng.uniform(0.9, 1.1) },
              color: Palette.color(i), label: name, marker: marker)
    }
    steps.reference(.inverse(c: 64), color: .gray, style: .dotted, width: 1, label: "perfect scaling")
    fig[0, 0] = steps
    fig[0, 1] = lr
    let shown = [16.0, 64, 256, 1024, 4096]
    let colors = Colormap.viridis.colors(shown.count)
    let etas = logspace(-4, 0, 13)
    for (panel, (title, limit)) in [("BN model: steps vs η", 10.0), ("high-curvature model: steps vs η", 0.005)].enumerated() {
      var ax = Axes(title: title, x: Axis(scale: .log, label: "learning rate η"), y: Axis(scale: .log, label: "steps to 85 %"))
      for (b, c) in zip(shown, colors) {
        var xs: [Double] = [], ys: [Double] = [], ms: [Marker] = []
        for eta in etas {
          let best = panel == 0 ? 0.05 * b / 64 : 3e-3
          let diverged = eta > (panel == 0 ? min(1.5, 0.4 * b / 64 + 0.1) : limit)
          let s = 4000 * (64 / b) * (1 + pow(log10(eta / best), 2)) * (panel == 0 ? 1 : b / 64 * 0.3 + 0.7)
          xs.append(eta); ys.append(diverged ? 3e5 : s); ms.append(diverged ? .cross : .circle)
        }
        ax.plot(x: zip(xs, ms).filter { $0.1 != .cross }.map(\.0), y: zip(ys, ms).filter { $0.1 != .cross }.map(\.0),
                color: c, width: 1, label: "B = \(Int(b))")
        ax.scatter(x: xs, y: ys, color: c, markers: ms, size: 4.5)
      }
      ax.legendEntries = [LegendEntry(label: "diverged", color: .black, marker: .cross)]
      ax.y.limits = 10...2e6   // headroom for the legend and the row of ✕ at the top
      ax.legend = panel == 1 ? .best : .none   // one legend for the shared batch-size colours
      fig[1, panel] = ax
    }
    return fig
  }

  // MARK: Robustness

  static func robustness(_ caption: String) -> Figure {
    var fig = Figure(rows: 4, cols: 2, width: 520, height: 720, title: "Robustness: awkward data", caption: caption)
    var a = Axes(title: "NaN and ∞ in a line")
    a.plot(x: [0, 1, 2, 3, 4, 5, 6], y: [1, 2, .nan, 3, .infinity, 2, 1], label: "with gaps")
    fig[0, 0] = a
    var b = Axes(title: "Empty series")
    b.scatter(x: [], y: [], label: "nothing")
    fig[0, 1] = b
    var c = Axes(title: "Single point", x: Axis(scale: .log), y: Axis(scale: .log))
    c.scatter(x: [0.1], y: [20], label: "one run")
    fig[1, 0] = c
    var d = Axes(title: "Zero range (all y = 3)")
    d.plot(x: [0, 1, 2, 3], y: [3, 3, 3, 3], marker: .circle)
    fig[1, 1] = d
    var e = Axes(title: "Non-positive values on log axes", x: Axis(scale: .log, label: "η"), y: Axis(scale: .log, label: "λ₁"))
    e.scatter(x: [-1, 0, 0.01, 0.1, 1], y: [5, 5, 50, 0, 2])
    e.reference(.inverse(c: 2), label: "2/η")
    fig[2, 0] = e
    var f = Axes(title: "Explicit limits clip data", x: Axis(limits: 0...1), y: Axis(limits: 0...1))
    f.scatter(x: [-5, 0.5, 0.2, 7], y: [0.5, 0.5, 9, 0.9], marker: .square)
    f.plot(x: [-1, 2], y: [-1, 2], style: .dashed)
    fig[2, 1] = f
    var g = Axes(title: "All values NaN", x: Axis(scale: .log), y: Axis(scale: .log))
    g.plot(x: [.nan, .nan], y: [1, 2])
    fig[3, 0] = g
    var h = Axes(title: "Huge and tiny values", y: Axis(scale: .log))
    h.plot(x: [0, 1, 2, 3], y: [1e-300, 1e-3, 1e3, 1e300], marker: .diamond)
    fig[3, 1] = h
    return fig
  }

  // MARK: Table

  static func table() -> String {
    let rows: [[String]] = [
      ["WRN 28-10 w/ BN", "4.1", "1.0", "yes"],
      ["WRN 28-10 no BN", "61.3", "0.03", "no"],
      ["WRN 28-10 no BN + warmup", "61.3", "0.5", "yes"],
      ["WRN 28-10 no BN, MetaInit", "9.8", "0.3", "yes"],
      ["Transformer | Adam", "2 300", "0.001", "yes"],
    ]
    return "# Gallery table (synthetic)\n\n"
      + markdownTable(headers: ["model", "λ₁ at init", "max stable η", "trains at η = 0.1"], rows: rows,
                      alignments: [.left, .right, .right, .center])
  }
}
