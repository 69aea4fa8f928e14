import Foundation
import Testing
@testable import Plotting

@Suite("Scales and ticks")
struct ScaleTests {
  @Test("linear ticks step by 1, 2 or 5 × 10^k", arguments: [
    (0.0, 10.0), (0.0, 1.0), (-3.0, 3.0), (0.0, 7.0), (0.013, 0.0171), (100.0, 4100.0), (-0.5, 12.5), (1e5, 9e5),
  ])
  func linearSteps(lo: Double, hi: Double) {
    let ticks = Scale.linear.ticks(in: lo...hi, target: 6).major
    #expect(ticks.count >= 2 && ticks.count <= 7, "\(ticks.map(\.label))")
    let steps = zip(ticks, ticks.dropFirst()).map { $1.value - $0.value }
    let step = steps[0]
    for s in steps { #expect(abs(s - step) < step * 1e-9) }
    let mantissa = step / pow(10, floor(log10(step) + 1e-9))
    #expect([1.0, 2.0, 5.0].contains { abs($0 - mantissa) < 1e-6 }, "step \(step)")
    for t in ticks { #expect(t.value >= lo - 1e-12 && t.value <= hi + 1e-12) }
  }

  @Test("linear tick labels have as many decimals as the step")
  func linearLabels() {
    #expect(Scale.linear.ticks(in: 0...10).major.map(\.label) == ["0", "2", "4", "6", "8", "10"])
    #expect(Scale.linear.ticks(in: 0...1).major.map(\.label) == ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
    #expect(Scale.linear.ticks(in: -3...3).major.map(\.label) == ["-3", "-2", "-1", "0", "1", "2", "3"])
    #expect(Scale.linear.ticks(in: 0...0.05).major.map(\.label) == ["0", "0.01", "0.02", "0.03", "0.04", "0.05"])
  }

  @Test("log ticks: decades labelled 1e-3, 0.01, 0.1, 1, 10 with minor ticks at 2…9")
  func logDecades() {
    let t = Scale.log.ticks(in: 1e-3...10)
    #expect(t.major.map(\.label) == ["1e-3", "0.01", "0.1", "1", "10"])
    #expect(zip(t.major.map(\.value), [1e-3, 1e-2, 1e-1, 1, 10]).allSatisfy { abs($0 - $1) <= 1e-15 * $1 })
    #expect(t.minor.count == 4 * 8)
    #expect(t.minor.contains { abs($0 - 0.002) < 1e-15 })
    #expect(t.minor.contains { abs($0 - 9) < 1e-12 })
    #expect(!t.minor.contains { abs($0 - 1) < 1e-12 })
  }

  @Test("log labels beyond 1000 and below 0.01 are scientific")
  func logLabels() {
    #expect(Scale.log.ticks(in: 1...1e5).major.map(\.label) == ["1", "10", "100", "1000", "1e4", "1e5"])
    #expect(formatLog(1, -4) == "1e-4")
    #expect(formatLog(5, -2) == "0.05")
    #expect(formatLog(2, 1) == "20")
  }

  @Test("many decades are thinned, keeping at most the target count")
  func manyDecades() {
    let t = Scale.log.ticks(in: 1e-10...1e10, target: 6)
    #expect(t.major.count <= 7 && t.major.count >= 3)
    #expect(t.major.allSatisfy { $0.label.hasPrefix("1") })
    #expect(t.major.map(\.label) == ["1e-10", "1e-5", "1", "1e5", "1e10"])
    let huge = Scale.log.ticks(in: 1e-300...1e300)
    #expect(huge.major.map(\.label) == ["1e-300", "1e-200", "1e-100", "1", "1e100", "1e200", "1e300"])
    #expect(huge.minor.isEmpty)
  }

  @Test("a range inside one decade labels 2× and 5× too")
  func narrowLog() {
    #expect(Scale.log.ticks(in: 1.5...8).major.map(\.label) == ["2", "5"])
    #expect(Scale.log.ticks(in: 3...40).major.map(\.label) == ["5", "10", "20"])
  }

  @Test("a log range holding no digit step is labelled linearly, inside the limits")
  func narrowerThanADigit() {
    let t = Scale.log.ticks(in: 112...141)
    #expect(t.major.count >= 2)
    #expect(t.major.allSatisfy { (112...141).contains($0.value) })
    #expect(t.major.map(\.label) == ["120", "130", "140"])
  }

  @Test("automatic limits: padding, zero span, single point, non-positive on log, empty")
  func autoLimits() throws {
    let l = try #require(Scale.linear.autoLimits([0, 10]))
    #expect(abs(l.lowerBound + 0.5) < 1e-12 && abs(l.upperBound - 10.5) < 1e-12)
    let z = try #require(Scale.linear.autoLimits([3, 3, 3]))
    #expect(z.lowerBound < 3 && z.upperBound > 3)
    let zero = try #require(Scale.linear.autoLimits([0]))
    #expect(zero == -1...1)
    let lg = try #require(Scale.log.autoLimits([-1, 0, 0.1, 10]))
    #expect(lg.lowerBound > 0 && lg.lowerBound < 0.1 && lg.upperBound > 10)
    let single = try #require(Scale.log.autoLimits([20]))
    #expect(abs(single.lowerBound - 10) < 1e-9 && abs(single.upperBound - 40) < 1e-9)
    #expect(Scale.log.autoLimits([-1, 0, .nan]) == nil)
    #expect(Scale.linear.autoLimits([]) == nil)
    #expect(Scale.linear.autoLimits([.nan, .infinity, 1, 2]).map { $0.upperBound < 3 } == true)
  }

  @Test("a near-constant series is not stretched into a crash: η 0.30 → 0.29 spans 20 % of 0.3")
  func nearConstantSeriesKeepARelativeSpan() throws {
    let eta = try #require(Scale.linear.autoLimits([0.3, 0.3, 0.295, 0.29]))
    #expect(abs(eta.lowerBound - 0.265) < 1e-12 && abs(eta.upperBound - 0.325) < 1e-12)
    // A spread of 5 % of the magnitude or more is autoscaled as before (5 % padding).
    let loss = try #require(Scale.linear.autoLimits([1.0, 0.9]))
    #expect(abs(loss.lowerBound - 0.895) < 1e-12 && abs(loss.upperBound - 1.005) < 1e-12)
    // On a log axis in ratio: 0.1 → 0.099999 is shown on 0.1/1.1 … 0.1·1.1 about its centre.
    let logEta = try #require(Scale.log.autoLimits([0.1, 0.099999]))
    #expect(abs(logEta.upperBound / logEta.lowerBound - 1.21) < 1e-4 && logEta.contains(0.1) && logEta.contains(0.099999))
    let decade = try #require(Scale.log.autoLimits([1, 10]))
    #expect(decade.lowerBound < 1 && decade.lowerBound > 0.8)
    // Around zero the magnitude is the larger end: -0.01…0.01 is not near-constant.
    let centered = try #require(Scale.linear.autoLimits([-0.01, 0.01]))
    #expect(abs(centered.upperBound - 0.011) < 1e-12)
  }
}

@Suite("Palette and colormap")
struct PaletteTests {
  @Test("neighbouring palette colours differ in greyscale lightness")
  func greyscaleDistinct() {
    let lum = Palette.okabeIto.map(\.luminance)
    for (a, b) in zip(lum, lum.dropFirst()) { #expect(abs(a - b) >= 0.12, "\(lum)") }
  }

  @Test("colormap samples get lighter monotonically (survive greyscale printing)")
  func colormapMonotone() {
    let lum = Colormap.viridis.colors(8).map(\.luminance)
    for (a, b) in zip(lum, lum.dropFirst()) { #expect(b > a) }
    #expect(Colormap.viridis.color(at: 0) == Color(hex: 0x440154))
    #expect(Colormap.viridis.color(at: 2) == Color(hex: 0xFDE725))
  }
}
