/// The categorical palette: Okabe & Ito (2008), "Color Universal Design", safe for the common
/// colour-vision deficiencies. The order alternates dark and light members so that neighbouring
/// series stay distinct when printed in grey (relative luminance 0.15, 0.42, 0.22, 0.41, 0.26, 0, 0.29:
/// neighbours differ by at least 0.15);
/// yellow (#F0E442) is left out because it vanishes on white paper.
public enum Palette {
  public static let blue = Color(hex: 0x0072B2)
  public static let orange = Color(hex: 0xE69F00)
  public static let vermillion = Color(hex: 0xD55E00)
  public static let skyBlue = Color(hex: 0x56B4E9)
  public static let black = Color(hex: 0x000000)
  public static let bluishGreen = Color(hex: 0x009E73)
  public static let reddishPurple = Color(hex: 0xCC79A7)

  /// Series colours in order of use.
  public static let okabeIto: [Color] = [blue, orange, vermillion, skyBlue, bluishGreen, black, reddishPurple]

  /// The colour of series `index`, cycling through ``okabeIto``.
  public static func color(_ index: Int) -> Color {
    okabeIto[((index % okabeIto.count) + okabeIto.count) % okabeIto.count]
  }

  /// The colour of stability thresholds (2/η and friends) and of the unstable region.
  public static let threshold = Color(hex: 0x000000)
  /// Fill of the unstable side of 2/η: light enough for the markers on it to stay readable.
  public static let unstableFill = Color(hex: 0xD55E00, alpha: 0.10)
}
