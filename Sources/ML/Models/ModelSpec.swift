/// A model named by a short string, as on the command line: `mlp:784-512-512-10:tanh`.
public struct ModelSpec: Sendable, Hashable, CustomStringConvertible {
  public enum Family: Sendable, Hashable {
    case mlp(widths: [Int], activation: Activation)
  }

  public var family: Family
  public var description: String

  public struct ParseError: Error, CustomStringConvertible {
    public let description: String
  }

  /// The most parameters a spec may ask for (2³¹ Float32s = 8 GiB, before gradients and HVPs).
  public static let maximumParameters = 1 << 31

  /// Parses `mlp:W0-W1-…-Wk:ACT` (ACT one of relu, tanh, gelu, identity).
  public init(parsing text: String) throws {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard let kind = parts.first else { throw ParseError(description: "empty model spec") }
    switch kind {
    case "mlp":
      guard parts.count == 3 else {
        throw ParseError(description: "model '\(text)': expected mlp:IN-HIDDEN-…-OUT:ACTIVATION, e.g. mlp:784-512-512-10:tanh")
      }
      // Every field digits only: `-8-6-3`, `8--6-3` and `8-6-3-` are typos, not models.
      let fields = parts[1].split(separator: "-", omittingEmptySubsequences: false)
      let widths = fields.map { f in f.allSatisfy(\.isASCIIDigit) && f.count <= 9 ? Int(f) : nil }
      guard widths.count >= 2, widths.allSatisfy({ ($0 ?? 0) > 0 }) else {
        throw ParseError(description: "model '\(text)': widths must be at least two positive integers joined by '-'")
      }
      // Saturating at the limit: no width exceeds 9 digits, so one layer's count cannot overflow.
      let parameters = zip(widths, widths.dropFirst()).reduce(0) { Swift.min($0 + $1.0! * $1.1! + $1.1!, Self.maximumParameters + 1) }
      guard parameters <= Self.maximumParameters else {
        throw ParseError(description: "model '\(text)': \(parameters) parameters, more than the \(Self.maximumParameters) this tool holds")
      }
      guard let act = Activation(rawValue: parts[2]) else {
        throw ParseError(description: "model '\(text)': unknown activation '\(parts[2])' (one of \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))")
      }
      family = .mlp(widths: widths.compactMap { $0 }, activation: act)
    default:
      throw ParseError(description: "model '\(text)': unknown family '\(kind)' (known: mlp)")
    }
    description = text
  }

  /// The network with its cross-entropy loss.
  public func network(loss: LossKind = .crossEntropy(labelSmoothing: 0)) -> Network {
    switch family {
    case .mlp(let widths, let act):
      return Network(build: { MLP(widths: widths, activation: act, registry: &$0) }, loss: loss)
    }
  }

  /// Number of classes (outputs).
  public var outputClasses: Int {
    switch family {
    case .mlp(let widths, _): return widths[widths.count - 1]
    }
  }

  /// Number of input features the model expects per example.
  public var inputFeatures: Int {
    switch family {
    case .mlp(let widths, _): return widths[0]
    }
  }
}

extension Character {
  var isASCIIDigit: Bool { isASCII && isNumber }
}
