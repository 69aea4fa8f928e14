/// WRN-d-k (Zagoruyko & Komodakis 2016), the paper's CIFAR-10 model (WRN-28-10): a 3×3 stem
/// conv to b channels (b = 16 in the paper; `baseWidth` shrinks it for small scales), then three
/// stages of n = (d − 4)/6 pre-activation basic blocks, BN-ReLU-conv3×3-BN-ReLU-conv3×3 plus the
/// skip (a 1×1 projection of the pre-activated input where the shape changes), of widths
/// b·k, 2b·k, 4b·k and strides 1, 2, 2; then BN-ReLU, global average pool, dense.
/// `normalization: .none` is the paper's "No BN" variant (the BN layers removed, nothing else);
/// the paper's "1.5× init" is `Network.initialParameters(seed:scale: 1.5)`; `fixup` gives
/// Fixup's initialization of the BN-free network.
///
/// A `ResNet` with `order: .preActivation`, `kind: .basic`, so its checkpoint names are
/// ResNet's: `stem.weight` [3, 3, Cin, b]; per block B = `stages.{s}.blocks.{i}`:
/// `B.bn1.scale|bias` [cin], `B.conv1.weight` [3, 3, cin, w], `B.bn2.scale|bias` [w],
/// `B.conv2.weight` [3, 3, w, w], `B.shortcut.weight` [1, 1, cin, w] (first block of a stage
/// when cin ≠ w or the stride is 2); `final_bn.scale|bias` [4b·k]; `head.weight` [4b·k, classes],
/// `head.bias` [classes]. (BN entries only with `.batchNorm`; Fixup scalars as in `ResNet`.)
public struct WideResNet: Layer {
  public struct Configuration: Sendable {
    /// d, with (d − 4) divisible by 6.
    public var depth: Int
    /// k.
    public var widen: Int
    /// b: 16 in the paper.
    public var baseWidth: Int
    public var inputChannels: Int
    public var classes: Int
    public var normalization: NormalizationKind
    public var fixup: Bool

    public init(depth: Int, widen: Int, baseWidth: Int = 16, inputChannels: Int = 3, classes: Int = 10,
                normalization: NormalizationKind = .batchNorm, fixup: Bool = false) {
      (self.depth, self.widen, self.baseWidth, self.inputChannels) = (depth, widen, baseWidth, inputChannels)
      (self.classes, self.normalization, self.fixup) = (classes, normalization, fixup)
    }

    /// Blocks per stage, n = (d − 4)/6.
    public var blocksPerStage: Int { (depth - 4) / 6 }

    /// The paper's WRN-28-10 on CIFAR-10.
    public static let wrn28x10 = Configuration(depth: 28, widen: 10)

    /// The equivalent `ResNet` configuration.
    public var resnet: ResNet.Configuration {
      precondition(depth >= 10 && (depth - 4) % 6 == 0, "WRN depth \(depth) must be 6n + 4 with n ≥ 1")
      precondition(widen > 0 && baseWidth > 0, "WRN widths must be positive")
      let n = blocksPerStage
      return ResNet.Configuration(
        inputChannels: inputChannels, classes: classes, stemWidth: baseWidth,
        stages: [ResNet.Stage(width: baseWidth * widen, blocks: n, stride: 1),
                 ResNet.Stage(width: 2 * baseWidth * widen, blocks: n, stride: 2),
                 ResNet.Stage(width: 4 * baseWidth * widen, blocks: n, stride: 2)],
        order: .preActivation, kind: .basic, normalization: normalization, fixup: fixup)
    }
  }

  public let config: Configuration
  let network: ResNet

  public init(_ config: Configuration, registry: inout ParameterRegistry) {
    self.config = config
    network = ResNet(config.resnet, registry: &registry)
  }

  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> { network(x, ctx) }
}
