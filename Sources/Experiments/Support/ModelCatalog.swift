import ML

/// The model variants experiments refer to by id. Each id fixes the architecture at a given
/// input size and class count; the init scale α and the optimizer belong to the run.
public enum ModelCatalog {
  public static let ids = ["mlp-relu", "mlp-tanh"]

  /// The network for `id` on images of `side`×`side`×1 with `classes` outputs; nil for an
  /// unknown id.
  public static func network(_ id: String, side: Int, classes: Int, width: Int) -> Network? {
    let inputs = side * side
    switch id {
    case "mlp-relu":
      return Network(build: { MLP(widths: [inputs, width, width, classes], activation: .relu, registry: &$0) })
    case "mlp-tanh":
      return Network(build: { MLP(widths: [inputs, width, width, classes], activation: .tanh, registry: &$0) })
    default:
      return nil
    }
  }

  /// Human-readable name for figure rows.
  public static func title(_ id: String) -> String {
    switch id {
    case "mlp-relu": return "MLP (ReLU)"
    case "mlp-tanh": return "MLP (tanh)"
    default: return id
    }
  }
}
