/// A small, fast, seedable generator (Steele, Lea & Flood 2014). Every random choice in `repro`
/// draws from one of these, passed `inout`, so one seed fixes every number.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  public private(set) var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A generator for an independent stream, derived from this seed and a label.
  public func derived(_ label: UInt64) -> SplitMix64 {
    var g = SplitMix64(seed: state ^ (label &* 0xD1B5_4A32_D192_ED03))
    _ = g.next()
    return g
  }

  /// Uniform in [0, 1) with 53 random bits.
  public mutating func nextUniform() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// Standard normal (Box–Muller; one of the pair is discarded to keep the stream simple).
  public mutating func nextNormal() -> Double {
    var u = nextUniform()
    while u <= 0 { u = nextUniform() }
    let v = nextUniform()
    return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
  }
}

import Foundation
