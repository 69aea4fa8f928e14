/// The catalogue of model families at the CPU scales of SPEC.md, each as a `Network`
/// (cross-entropy, no L2; the experiment sets those). The paper's init scaling α ("1.5× init")
/// is not a model choice: pass it to `Network.initialParameters(seed:scale:)`.
///
/// Images are Fashion-MNIST: `.tiny` 14×14×1 (downsampled by the data loader), `.small` 28×28×1, 10
/// classes; `.full` is CIFAR-10, 32×32×3, with the paper's families at widths a CPU cluster can
/// sweep (WRN-16-4 for WRN-28-10, a two-blocks-per-stage ResNet for ResNet-50, DenseNet-BC
/// growth 12 for growth 32, a 4-layer D 128 Transformer for the 6-layer D 512 one). Text is characters: vocabulary 96, sequence 32 (`.tiny`) or 64 (`.small`) for the
/// language model; the translation model reads source and decoder input of 16 or 32 characters
/// each (`Seq2SeqTransformer.pack`).
///
/// Parameter counts (asserted in `ModelFamilyZooTests`), the same at both sizes for the
/// convolutional families (only the resolution changes), tiny / small for the others:
/// - `wrn` (WRN-10-1, b = 8): `.batchNorm` 19,714; `.none` 19,474; Fixup 19,493.
/// - `resnet` basic: post-activation 19,810; pre-activation (either order) 19,714;
///   post-activation bottleneck 9,026.
/// - `densenet` (growth 4, blocks 2-2-2): `.batchNorm` 5,322; `.none` 4,914.
/// - `resmlp`: `.none` 23,402 / 629,130 (width 32 × 4 blocks / 128 × 8 blocks); `.layerNorm` and
///   `.batchNorm` 23,722 / 631,434; Fixup 23,038 / 626,098.
/// - `transformerLM`: `.pre` 32,736 / 116,576 (D 32 / the W3 benchmark, D 64); `.post` 32,672 /
///   116,448; `.none` 32,416 / 115,936.
/// - `seq2seq`: `.pre` 31,840 / 190,304 (D 32, 1 + 1 layers / D 64, 2 + 2 layers); `.post`
///   31,712 / 190,048; `.none` 31,392 / 188,768.
/// Step times of the `.small` members before BatchNorm became one fused primitive (the BN
/// members are now about a quarter to a half faster; `repro bench --families --clock cpu`
/// measures them), release build, 2 shared cores, Float, best of three
/// (`REPRO_ZOO_TIMING=<batch> swift test -c release --filter smallMemberStepTimes`), gradient /
/// HVP in ms at 16 images or 4 sequences (the gated test asserts gradients < 50 ms there):
/// wrn BN 18.7 / 44.2, no BN 13.0 / 32.3, Fixup 17.9 / 39.7; resnet post 22.7 / 45.7, pre
/// 17.6 / 43.9, ReLU-before-BN 36.9 / 42.8, post bottleneck 19.6 / 52.6; densenet BN
/// 32.0 / 88.9, no BN 21.4 / 54.9; resmlp 3–4 / 6–9; transformerLM 7–8 / 15–18; seq2seq
/// 7–8 / 15–19. At 32 images or 8 sequences the times roughly double (densenet BN 54.5 / 131,
/// the only gradient over 50 ms apart from a noisy post-activation reading), at 64 / 16 they
/// double again; cost is dominated by memory traffic at 28×28, not by FLOPs.
public enum ModelZoo {
  public enum Size: String, Sendable, CaseIterable, Codable { case tiny, small, full }

  public static let classes = 10
  public static let vocabulary = 96

  /// [H, W, C] of one image.
  public static func imageShape(_ size: Size) -> [Int] {
    switch size {
    case .tiny: return [14, 14, 1]
    case .small: return [28, 28, 1]
    case .full: return [32, 32, 3]
    }
  }

  /// Tokens per sequence of the language model.
  public static func lmSequence(_ size: Size) -> Int { [.tiny: 32, .small: 64, .full: 128][size]! }

  /// Source (= decoder-input) length of the translation model.
  public static func seq2seqSequence(_ size: Size) -> Int { [.tiny: 16, .small: 32, .full: 64][size]! }

  /// The byte-pair vocabulary (shared by source and target) of the translation model trained on
  /// the Bibles (`TranslationCorpus`): the paper's models share a 32 000-piece vocabulary over
  /// WMT; 2 000 pieces cover these two Bibles' 30 000 word types at about 1.3 pieces a word.
  public static func seq2seqVocabulary(_ size: Size) -> Int { [.tiny: 1000, .small: 2000, .full: 8000][size]! }

  // MARK: Image classifiers

  /// WRN-10-1 with b = 8: one pre-activation block per stage, widths 8, 16, 32, at both sizes
  /// (the sizes differ in resolution; WRN-16-1 at 28×28 took 100 ms a gradient at batch 32).
  /// `.none` is the paper's "No BN"; `fixup` needs `.none`.
  /// `.full`: WRN-16-4 (b = 16) on 32×32×3.
  public static func wrn(normalization: NormalizationKind = .batchNorm, fixup: Bool = false, size: Size) -> Network {
    let full = size == .full
    let config = WideResNet.Configuration(depth: full ? 16 : 10, widen: full ? 4 : 1, baseWidth: full ? 16 : 8,
                                          inputChannels: imageShape(size)[2],
                                          classes: classes, normalization: normalization, fixup: fixup)
    return Network { WideResNet(config, registry: &$0) }
  }

  /// A ResNet in one of the paper's three block orders: stem 8, three stages of widths w, 2w,
  /// 4w (w = 8; bottleneck w = 4 with 4× expansion) and strides 1, 2, 2, one block per stage at
  /// both sizes (`.full`: stem 16, w = 16 (bottleneck 8), two blocks per stage). Pre-activation
  /// basic is the same network as `wrn` at the two small sizes.
  public static func resnet(order: ResNet.BlockOrder, kind: ResNet.BlockKind = .basic,
                            normalization: NormalizationKind = .batchNorm, fixup: Bool = false, size: Size) -> Network {
    let full = size == .full
    let w = (kind == .bottleneck ? 4 : 8) * (full ? 2 : 1)
    let n = full ? 2 : 1
    let config = ResNet.Configuration(
      inputChannels: imageShape(size)[2], classes: classes, stemWidth: full ? 16 : 8,
      stages: [.init(width: w, blocks: n, stride: 1), .init(width: 2 * w, blocks: n, stride: 2),
               .init(width: 4 * w, blocks: n, stride: 2)],
      order: order, kind: kind, normalization: normalization, fixup: fixup)
    return Network { ResNet(config, registry: &$0) }
  }

  /// DenseNet-BC with three dense blocks of two layers, growth 4, compression 0.5 (the paper's
  /// reduction), at both sizes (growth 6 at 28×28 took 150 ms a gradient at batch 32);
  /// `.full`: growth 12, blocks of six layers.
  public static func densenet(normalization: NormalizationKind = .batchNorm, size: Size) -> Network {
    let full = size == .full
    let config = DenseNet.Configuration(inputChannels: imageShape(size)[2], classes: classes, growthRate: full ? 12 : 4,
                                        blocks: full ? [6, 6, 6] : [2, 2, 2], compression: 0.5, normalization: normalization)
    return Network { DenseNet(config, registry: &$0) }
  }

  /// Residual MLP on flattened images: width 32, hidden 64, 4 blocks (tiny); width 128,
  /// hidden 256, 8 blocks (small); width 512, hidden 1024, 8 blocks (full).
  public static func resmlp(normalization: NormalizationKind = .none, fixup: Bool = false, size: Size) -> Network {
    let pixels = imageShape(size).reduce(1, *)
    let (width, hidden, blocks) = [.tiny: (32, 64, 4), .small: (128, 256, 8), .full: (512, 1024, 8)][size]!
    let config = ResidualMLP.Configuration(inputs: pixels, width: width, hiddenWidth: hidden, blocks: blocks, classes: classes,
                                           normalization: normalization, fixup: fixup)
    return Network { ResidualMLP(config, registry: &$0) }
  }

  // MARK: Transformers

  /// Decoder-only character LM: D 32, 2 layers, 2 heads, MLP 128 (tiny); the W3 benchmark,
  /// D 64, 2 layers, 4 heads, MLP 256 (small); D 128, 4 layers, 4 heads, MLP 512 (full).
  public static func transformerLM(layerNorm: TransformerLM.LayerNormPlacement = .pre, size: Size) -> Network {
    var config: TransformerLM.Configuration
    switch size {
    case .tiny: config = .init(vocabulary: vocabulary, context: lmSequence(.tiny), width: 32, layers: 2, heads: 2, mlpWidth: 128)
    case .small: config = .w3
    case .full: config = .init(vocabulary: vocabulary, context: lmSequence(.full), width: 128, layers: 4, heads: 4, mlpWidth: 512)
    }
    config.layerNorm = layerNorm
    return Network { TransformerLM(config, registry: &$0) }
  }

  /// Encoder–decoder character translator: D 32, 1 + 1 layers, 2 heads, MLP 64 (tiny);
  /// D 64, 2 + 2 layers, 4 heads, MLP 128 (small); D 128, 3 + 3 layers, 4 heads, MLP 512 (full).
  /// `vocabulary`: the character set (96) unless a subword vocabulary is given.
  public static func seq2seq(layerNorm: TransformerLM.LayerNormPlacement = .pre, size: Size, vocabulary: Int = vocabulary) -> Network {
    let t = seq2seqSequence(size)
    let (width, layers, heads, mlp) = [.tiny: (32, 1, 2, 64), .small: (64, 2, 4, 128), .full: (128, 3, 4, 512)][size]!
    let config = Seq2SeqTransformer.Configuration(vocabulary: vocabulary, context: t, width: width, encoderLayers: layers,
                                                  decoderLayers: layers, heads: heads, mlpWidth: mlp, layerNorm: layerNorm)
    return Network { Seq2SeqTransformer(config, registry: &$0) }
  }

  /// The translation model of table2 (the paper's Table 2 Transformer, trained on the Bibles):
  /// the paper's six encoder and six decoder layers, at width 32 with 2 heads and MLP 128
  /// (small); 2 + 2 layers at width 16 (tiny); width 128, 4 heads, MLP 512 (full). Token
  /// embeddings start at N(0, 1) as in the Flax WMT model the paper trained: without LayerNorm
  /// the residual stream then grows through the twelve sub-layers of each stack, which is why
  /// its default initialization has an extreme initial gradient (the paper: "on the order of
  /// 10²⁰"; here about 10⁶, λ1 about 10¹⁵) and the 0.25× one does not.
  public static func translator(layerNorm: TransformerLM.LayerNormPlacement, size: Size, vocabulary: Int) -> Network {
    let (width, layers, heads, mlp) = [.tiny: (16, 2, 2, 32), .small: (32, 6, 2, 128), .full: (128, 6, 4, 512)][size]!
    let config = Seq2SeqTransformer.Configuration(vocabulary: vocabulary, context: seq2seqSequence(size), width: width, encoderLayers: layers,
                                                  decoderLayers: layers, heads: heads, mlpWidth: mlp, layerNorm: layerNorm, embeddingStd: 1)
    return Network { Seq2SeqTransformer(config, registry: &$0) }
  }
}
