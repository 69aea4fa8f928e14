import ML

/// The model variants experiments refer to by id. Each id fixes the architecture; `size`
/// follows the scale (tiny: 14×14 images; small and full: 28×28). The init scale α and the
/// optimizer belong to the run.
public enum ModelCatalog {
  public static let ids = [
    "mlp-relu", "mlp-tanh", "resmlp-none", "resmlp-ln", "resmlp-bn", "resmlp-fixup",
    "cnn", "wrn-bn", "wrn-nobn", "wrn-fixup", "resnet-post", "resnet-pre", "resnet-relu-bn", "resnet-nobn", "resnet-fixup",
    "densenet-bn", "densenet-nobn",
    "lm-pre", "lm-post", "lm-none", "mt-pre", "mt-post", "mt-none",
  ]

  /// A row id split into the catalog id, the init scale α of its `-x<α>` suffix and the
  /// data-driven initialization of its `+metainit` / `+gradinit` suffix
  /// ("wrn-nobn-x1.5" → wrn-nobn, 1.5; "resmlp-none+metainit" → resmlp-none, 1, MetaInit).
  public struct Variant: Hashable, Sendable {
    public var id: String
    public var initScale: Double
    public var initMethod: TrainingRecipe.InitMethod = .standard
    public var isKnown: Bool { ModelCatalog.ids.contains(id) && initScale > 0 && initScale.isFinite }
  }

  public static func variant(_ row: String) -> Variant {
    var rest = Substring(row), method = TrainingRecipe.InitMethod.standard
    if let plus = rest.lastIndex(of: "+"),
       let m = TrainingRecipe.InitMethod.allCases.first(where: { $0 != .standard && $0.rowSuffix == rest[plus...] }) {
      method = m
      rest = rest[..<plus]
    }
    if let r = rest.range(of: "-x", options: .backwards), let alpha = Double(rest[r.upperBound...]) {
      return Variant(id: String(rest[..<r.lowerBound]), initScale: alpha, initMethod: method)
    }
    return Variant(id: String(rest), initScale: 1, initMethod: method)
  }

  /// The character-level Transformer language models (KJV text), by LayerNorm placement.
  public static func isLanguageModel(_ id: String) -> Bool { id.hasPrefix("lm-") }

  public static func languageModel(_ id: String, size: ModelZoo.Size) -> Network? {
    switch id {
    case "lm-pre": return ModelZoo.transformerLM(layerNorm: .pre, size: size)
    case "lm-post": return ModelZoo.transformerLM(layerNorm: .post, size: size)
    case "lm-none": return ModelZoo.transformerLM(layerNorm: .none, size: size)
    default: return nil
    }
  }

  /// The encoder–decoder translation Transformers (KJV → Reina-Valera 1909), by LayerNorm placement.
  public static func isTranslationModel(_ id: String) -> Bool { id.hasPrefix("mt-") }

  /// The translation model `id` over a subword vocabulary of `vocabulary` pieces; nil for another id.
  public static func translationModel(_ id: String, size: ModelZoo.Size, vocabulary: Int) -> Network? {
    switch id {
    case "mt-pre": return ModelZoo.translator(layerNorm: .pre, size: size, vocabulary: vocabulary)
    case "mt-post": return ModelZoo.translator(layerNorm: .post, size: size, vocabulary: vocabulary)
    case "mt-none": return ModelZoo.translator(layerNorm: .none, size: size, vocabulary: vocabulary)
    default: return nil
    }
  }

  /// The image classifier `id` on `ModelZoo.imageShape(size)` with `classes` outputs; nil for
  /// an unknown id (language models: `languageModel`; translation: `translationModel`). `width` sizes the plain MLPs only (the
  /// zoo fixes the others).
  public static func network(_ id: String, size: ModelZoo.Size, classes: Int, width: Int) -> Network? {
    let inputs = ModelZoo.imageShape(size).reduce(1, *)
    switch id {
    case "mlp-relu": return Network(build: { MLP(widths: [inputs, width, width, classes], activation: .relu, registry: &$0) })
    case "mlp-tanh": return Network(build: { MLP(widths: [inputs, width, width, classes], activation: .tanh, registry: &$0) })
    case "resmlp-none": return ModelZoo.resmlp(normalization: .none, size: size)
    case "resmlp-ln": return ModelZoo.resmlp(normalization: .layerNorm, size: size)
    case "resmlp-bn": return ModelZoo.resmlp(normalization: .batchNorm, size: size)
    case "resmlp-fixup": return ModelZoo.resmlp(normalization: .none, fixup: true, size: size)
    case "wrn-bn": return ModelZoo.wrn(normalization: .batchNorm, size: size)
    case "wrn-nobn": return ModelZoo.wrn(normalization: .none, size: size)
    case "wrn-fixup": return ModelZoo.wrn(normalization: .none, fixup: true, size: size)
    // Bottleneck blocks, as in the paper's ResNet-50 (the basic pre-activation ResNet would be
    // the same network as `wrn-bn` here).
    case "resnet-post": return ModelZoo.resnet(order: .postActivation, kind: .bottleneck, size: size)
    case "resnet-pre": return ModelZoo.resnet(order: .preActivation, kind: .bottleneck, size: size)
    case "resnet-relu-bn": return ModelZoo.resnet(order: .preActivationReLUBeforeBN, kind: .bottleneck, size: size)
    case "resnet-nobn": return ModelZoo.resnet(order: .preActivation, kind: .bottleneck, normalization: .none, size: size)
    case "resnet-fixup": return ModelZoo.resnet(order: .preActivation, kind: .bottleneck, normalization: .none, fixup: true, size: size)
    case "cnn":
      let channels = ModelZoo.imageShape(size)[2]
      return Network(build: { SmallCNN(inputChannels: channels, classes: classes, registry: &$0) })
    case "densenet-bn": return ModelZoo.densenet(normalization: .batchNorm, size: size)
    case "densenet-nobn": return ModelZoo.densenet(normalization: .none, size: size)
    default: return nil
    }
  }

  /// Human-readable name for figure rows.
  public static func title(_ row: String) -> String {
    let v = variant(row)
    let base = baseTitles[v.id] ?? v.id
    let scaled = v.initScale == 1 ? base : base + ", \(String(format: "%g", v.initScale))× init"
    switch v.initMethod {
    case .standard: return scaled
    case .metaInit: return scaled + ", MetaInit"
    case .gradInit: return scaled + ", GradInit"
    }
  }

  /// The family a row belongs to: the catalog id's prefix before the first "-" (wrn, densenet,
  /// resnet, lm, resmlp, mlp), one row of Fig 2's performance figure (the paper's Figs 9–12).
  public static func family(_ row: String) -> String {
    let id = variant(row).id
    return id.split(separator: "-", maxSplits: 1).first.map(String.init) ?? id
  }

  /// Human-readable name of a family.
  public static func familyTitle(_ family: String) -> String { familyTitles[family] ?? family }

  static let familyTitles: [String: String] = [
    "wrn": "WideResNet", "densenet": "DenseNet", "resnet": "ResNet", "lm": "Transformer LM",
    "resmlp": "Residual MLP", "mlp": "MLP", "cnn": "CNN", "mt": "Transformer translation",
  ]

  static let baseTitles: [String: String] = [
      "mlp-relu": "MLP (ReLU)", "mlp-tanh": "MLP (tanh)", "resmlp-none": "residual MLP, no norm",
      "resmlp-ln": "residual MLP, LayerNorm", "resmlp-bn": "residual MLP, BatchNorm", "resmlp-fixup": "residual MLP, Fixup",
      "wrn-bn": "WRN, BN", "wrn-nobn": "WRN, no BN", "wrn-fixup": "WRN, Fixup", "resnet-post": "bottleneck ResNet, post-act.",
      "resnet-pre": "bottleneck ResNet, pre-act.", "resnet-relu-bn": "bottleneck ResNet, ReLU before BN",
      "resnet-nobn": "bottleneck ResNet, pre-act., no BN", "resnet-fixup": "bottleneck ResNet, Fixup", "cnn": "small CNN (W2)", "densenet-bn": "DenseNet, BN",
      "densenet-nobn": "DenseNet, no BN", "lm-pre": "Transformer LM, pre-LN", "lm-post": "Transformer LM, post-LN",
      "lm-none": "Transformer LM, no LN", "mt-pre": "Transformer MT, pre-LN", "mt-post": "Transformer MT, post-LN",
      "mt-none": "Transformer MT, no LN",
  ]
}
