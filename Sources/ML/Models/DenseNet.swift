/// DenseNet-BC (Huang et al. 2017) on NHWC images, the paper's second CIFAR-10 family (growth
/// rate 32, reduction 0.5, ± BN).
///
/// Stem: conv3×3 → 2g channels (g the growth rate). Dense block j of n_j layers: each layer
/// maps the concatenation of everything before it, c channels, to g new ones,
///   new = conv3×3_g(ReLU(BN(conv1×1_{4g}(ReLU(BN(h))))))     h ← [h | new]  (channel concat)
/// so a block adds n_j·g channels. Between blocks a transition compresses and halves the
/// resolution: h ← avgpool2×2(conv1×1_{⌊θc⌋}(ReLU(BN(h)))), θ = `compression` (0.5). Head:
/// ReLU(BN(h)), global average pool, dense → classes. Convolutions have no bias;
/// `normalization: .none` removes the BN layers and nothing else. LeCun-normal initialization.
///
/// Checkpoint names: `stem.weight` [3, 3, Cin, 2g]; per layer L = `blocks.{j}.layers.{i}`:
/// `L.bn1.scale|bias` [c], `L.conv1.weight` [1, 1, c, 4g], `L.bn2.scale|bias` [4g],
/// `L.conv2.weight` [3, 3, 4g, g]; per transition T = `transitions.{j}`: `T.bn.scale|bias` [c],
/// `T.conv.weight` [1, 1, c, ⌊θc⌋]; `final_bn.scale|bias` [C]; `head.weight` [C, classes],
/// `head.bias` [classes] (BN entries only with `.batchNorm`).
public struct DenseNet: Layer {
  public struct Configuration: Sendable {
    public var inputChannels: Int
    public var classes: Int
    /// g.
    public var growthRate: Int
    /// Layers per dense block.
    public var blocks: [Int]
    /// θ of the transitions.
    public var compression: Double
    public var normalization: NormalizationKind

    public init(inputChannels: Int = 1, classes: Int = 10, growthRate: Int, blocks: [Int],
                compression: Double = 0.5, normalization: NormalizationKind = .batchNorm) {
      (self.inputChannels, self.classes, self.growthRate, self.blocks) = (inputChannels, classes, growthRate, blocks)
      (self.compression, self.normalization) = (compression, normalization)
    }
  }

  struct DenseLayer: Sendable {
    let bn1: NormalizationSlot, conv1: Conv2D, bn2: NormalizationSlot, conv2: Conv2D
  }

  struct Transition: Sendable {
    let bn: NormalizationSlot, conv: Conv2D
  }

  public let config: Configuration
  let stem: Conv2D
  let blocks: [[DenseLayer]]
  let transitions: [Transition]
  let finalNorm: NormalizationSlot
  let head: Dense
  /// Channels after the last block.
  public let outputChannels: Int

  public init(_ config: Configuration, registry: inout ParameterRegistry) {
    precondition(config.inputChannels > 0 && config.classes > 0 && config.growthRate > 0,
                 "DenseNet sizes must be positive")
    precondition(!config.blocks.isEmpty && config.blocks.allSatisfy { $0 > 0 }, "DenseNet needs non-empty dense blocks")
    precondition(config.compression > 0 && config.compression <= 1, "DenseNet compression must be in (0, 1]")
    precondition(config.normalization != .layerNorm, "DenseNet takes .batchNorm or .none")
    self.config = config
    let g = config.growthRate, norm = config.normalization
    stem = Conv2D(config.inputChannels, 2 * g, kernel: (3, 3), name: "stem", registry: &registry, bias: false)
    var c = 2 * g
    var blocks: [[DenseLayer]] = [], transitions: [Transition] = []
    for (j, n) in config.blocks.enumerated() {
      var layers: [DenseLayer] = []
      for i in 0..<n {
        let p = "blocks.\(j).layers.\(i)"
        layers.append(DenseLayer(
          bn1: NormalizationSlot(norm, width: c, name: "\(p).bn1", registry: &registry),
          conv1: Conv2D(c, 4 * g, kernel: (1, 1), name: "\(p).conv1", registry: &registry, bias: false),
          bn2: NormalizationSlot(norm, width: 4 * g, name: "\(p).bn2", registry: &registry),
          conv2: Conv2D(4 * g, g, kernel: (3, 3), name: "\(p).conv2", registry: &registry, bias: false)))
        c += g
      }
      blocks.append(layers)
      if j < config.blocks.count - 1 {
        let out = Int(config.compression * Double(c))
        precondition(out > 0, "DenseNet transition \(j) compresses \(c) channels to none")
        transitions.append(Transition(
          bn: NormalizationSlot(norm, width: c, name: "transitions.\(j).bn", registry: &registry),
          conv: Conv2D(c, out, kernel: (1, 1), name: "transitions.\(j).conv", registry: &registry, bias: false)))
        c = out
      }
    }
    self.blocks = blocks
    self.transitions = transitions
    outputChannels = c
    finalNorm = NormalizationSlot(norm, width: c, name: "final_bn", registry: &registry)
    head = Dense(c, config.classes, name: "head", registry: &registry)
  }

  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    precondition(x.rank == 4 && x.shape[3] == config.inputChannels,
                 "DenseNet expects NHWC images with \(config.inputChannels) channels, got \(x.shape)")
    var h = stem(x, ctx)
    for (j, layers) in blocks.enumerated() {
      for layer in layers {
        let bottleneck = layer.conv1(layer.bn1(h, ctx).relu(), ctx)
        let new = layer.conv2(layer.bn2(bottleneck, ctx).relu(), ctx)
        h = Variable.concatenated([h, new], alongAxis: 3)
      }
      if j < transitions.count {
        let t = transitions[j]
        precondition(h.shape[1] >= 2 && h.shape[2] >= 2, "DenseNet transition \(j) on a \(h.shape[1])×\(h.shape[2]) map")
        h = t.conv(t.bn(h, ctx).relu(), ctx).avgPool2D(kernel: (2, 2))
      }
    }
    return head(finalNorm(h, ctx).relu().globalAvgPool2D(), ctx)
  }
}
