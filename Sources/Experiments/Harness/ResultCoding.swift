import Foundation

/// The JSON coding of stored results, figure data and golden data: pretty-printed with sorted
/// keys, and non-finite numbers written as the strings "nan", "inf" and "-inf". Why: a run that
/// diverges records the loss of its last step, which can be NaN or ±∞, and JSON has no literal
/// for them (the default encoder throws, which had stopped a sweep at the first such run).
/// Run keys keep their own encoder (`RunKey`): a recipe never holds a non-finite number.
enum ResultCoding {
  static let nonFinite = (positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

  static func encoder() -> JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys]
    e.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: nonFinite.positiveInfinity, negativeInfinity: nonFinite.negativeInfinity, nan: nonFinite.nan)
    return e
  }

  static func decoder() -> JSONDecoder {
    let d = JSONDecoder()
    d.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: nonFinite.positiveInfinity, negativeInfinity: nonFinite.negativeInfinity, nan: nonFinite.nan)
    return d
  }
}
