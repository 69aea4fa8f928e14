import ML

/// A model named on the command line for measuring curvature (`repro hessian`), with the layout
/// of the batch it reads.
///
/// Grammar (one line of `repro help hessian` each):
/// - `mlp:IN-H1-…-OUT:ACT`: a plain MLP of those widths, ACT one of relu, tanh, gelu, identity
///   (x: [N, IN] float32).
/// - `ID[:SIZE]`: a model of the zoo by its catalog id (`ModelCatalog.ids`: `resmlp-none`,
///   `resmlp-ln`, `resmlp-bn`, `resmlp-fixup`, `cnn`, `wrn-bn`, `wrn-nobn`, `wrn-fixup`,
///   `resnet-post`, `resnet-pre`, `resnet-relu-bn`, `resnet-nobn`, `resnet-fixup`,
///   `densenet-bn`, `densenet-nobn`, `lm-pre`, `lm-post`, `lm-none`) at the zoo's size SIZE
///   (`tiny`, `small` (default), `full`). Images are NHWC float32 of `ModelZoo.imageShape(SIZE)`
///   (14×14×1, 28×28×1, 32×32×3; flattened rows are accepted), 10 classes; the language models
///   read int64 token ids [N, T] (T = `ModelZoo.lmSequence(SIZE)`, vocabulary 96) with
///   next-token labels [N, T].
public struct CurvatureModel {
  public let network: Network
  public let layout: BatchLayout
  public let classes: Int
  public let description: String

  public struct SpecError: Error, CustomStringConvertible {
    public let description: String
  }

  static let excluded: Set<String> = ["mlp-relu", "mlp-tanh", "mt-pre", "mt-post", "mt-none"]
  /// The catalog ids a spec may name.
  public static var zooIDs: [String] { ModelCatalog.ids.filter { !excluded.contains($0) } }

  public static let grammar = """
    mlp:IN-H1-…-OUT:ACT (ACT: relu, tanh, gelu, identity), or ID[:SIZE] with ID one of \
    \(zooIDs.joined(separator: ", ")) and SIZE tiny, small (default) or full
    """

  public init(parsing spec: String, loss: LossKind = .crossEntropy(labelSmoothing: 0)) throws {
    if spec.hasPrefix("mlp:") {
      let m: ModelSpec
      do { m = try ModelSpec(parsing: spec) } catch let e as ModelSpec.ParseError { throw SpecError(description: e.description) }
      network = m.network(loss: loss)
      layout = .features(m.inputFeatures)
      classes = m.outputClasses
      description = spec
      return
    }
    let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard (1...2).contains(parts.count), let id = parts.first, Self.zooIDs.contains(id) else {
      throw SpecError(description: "model '\(spec)': expected \(Self.grammar)")
    }
    let sizeName = parts.count == 2 ? parts[1] : "small"
    guard let size = ModelZoo.Size(rawValue: sizeName) else {
      throw SpecError(description: "model '\(spec)': unknown size '\(sizeName)' (tiny, small or full)")
    }
    var net: Network
    if ModelCatalog.isLanguageModel(id) {
      guard let n = ModelCatalog.languageModel(id, size: size) else { throw SpecError(description: "model '\(spec)': not a language model") }
      net = n
      layout = .tokens(ModelZoo.lmSequence(size))
      classes = ModelZoo.vocabulary
    } else {
      guard let n = ModelCatalog.network(id, size: size, classes: ModelZoo.classes, width: 64) else {
        throw SpecError(description: "model '\(spec)': expected \(Self.grammar)")
      }
      net = n
      layout = .image(ModelZoo.imageShape(size))
      classes = ModelZoo.classes
    }
    net.loss = loss
    network = net
    description = "\(id):\(size.rawValue)"
  }
}
