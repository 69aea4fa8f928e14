/// A residual convolutional network (He et al. 2016a, 2016b) on NHWC images, in the three block
/// orders the paper compares (Fig 2, Fig 4):
/// - `.postActivation` (the original): y = ReLU(BN(conv(ReLU(BN(conv(x))))) + s(x)), with
///   s(x) = x, or BN(conv1×1(x)) when the shape changes; stem ReLU(BN(conv3×3(x))).
/// - `.preActivation`: p = ReLU(BN(x)); y = conv(ReLU(BN(conv(p)))) + s, with s = x or
///   conv1×1(p); a final ReLU(BN(·)) before pooling.
/// - `.preActivationReLUBeforeBN`: the same with BN(ReLU(·)) in place of ReLU(BN(·)).
/// Basic blocks have two 3×3 convolutions of the stage width w (the first strided); bottleneck
/// blocks 1×1 → w, 3×3 → w (strided), 1×1 → 4w. Head: global average pool, dense → classes.
/// Convolutions have no bias (BatchNorm's β, or Fixup's scalar biases, take its place); with
/// `normalization: .none` the BatchNorm layers are simply removed.
///
/// Initialization: LeCun normal (the paper's default); with `fixup` (normalization `.none`
/// only) see `Fixup`: He normal × L^(−1/(2m−2)) on the branch convolutions before the last,
/// zeros on the last and on the head.
///
/// Checkpoint names, block prefix B = `stages.{s}.blocks.{b}`:
/// - `stem.weight` [3, 3, Cin, stem], `stem_bn.scale|bias` [stem] (post-activation with BN);
/// - `B.conv{i}.weight` [k, k, cin, cout] for i = 1, 2 (basic) or 1, 2, 3 (bottleneck), and
///   `B.bn{i}.scale|bias` [c] with c the normalized tensor's channels (the conv's output for
///   post-activation, its input for the pre-activation orders);
/// - `B.shortcut.weight` [1, 1, cin, cout] when the shape changes (and `B.shortcut_bn` [cout],
///   post-activation with BN);
/// - with Fixup: `B.conv{i}.input_bias` [1] before conv i, `B.act{i}.input_bias` [1] before the
///   activation that precedes conv i (every i in the pre-activation orders, i ≥ 2 post-activation),
///   `B.multiplier` [1], `B.output_bias` [1], and `head.input_bias` [1];
/// - `final_bn.scale|bias` [C] (pre-activation orders with BN), `head.weight` [C, classes],
///   `head.bias` [classes].
public struct ResNet: Layer {
  public enum BlockOrder: String, Sendable, CaseIterable {
    case postActivation, preActivation, preActivationReLUBeforeBN
  }

  public enum BlockKind: String, Sendable, CaseIterable {
    /// Two 3×3 convolutions.
    case basic
    /// 1×1 → 3×3 → 1×1 with 4× expansion.
    case bottleneck

    var layers: Int { self == .basic ? 2 : 3 }
    var expansion: Int { self == .basic ? 1 : 4 }
  }

  public struct Stage: Sendable, Hashable {
    public var width: Int, blocks: Int, stride: Int
    public init(width: Int, blocks: Int, stride: Int) { (self.width, self.blocks, self.stride) = (width, blocks, stride) }
  }

  public struct Configuration: Sendable {
    public var inputChannels: Int
    public var classes: Int
    public var stemWidth: Int
    public var stages: [Stage]
    public var order: BlockOrder
    public var kind: BlockKind
    public var normalization: NormalizationKind
    public var fixup: Bool

    public init(inputChannels: Int = 1, classes: Int = 10, stemWidth: Int, stages: [Stage],
                order: BlockOrder, kind: BlockKind = .basic, normalization: NormalizationKind = .batchNorm,
                fixup: Bool = false) {
      (self.inputChannels, self.classes, self.stemWidth, self.stages) = (inputChannels, classes, stemWidth, stages)
      (self.order, self.kind, self.normalization, self.fixup) = (order, kind, normalization, fixup)
    }

    /// Total number of residual branches L.
    public var branches: Int { stages.reduce(0) { $0 + $1.blocks } }
  }

  struct Block: Sendable {
    let convs: [Conv2D]
    /// One per conv: after it (post-activation) or before it (pre-activation orders).
    let norms: [NormalizationSlot]
    let shortcut: Conv2D?
    let shortcutNorm: NormalizationSlot?
    // Fixup scalars (nil without Fixup).
    let convBiases: [ScalarBias?]
    let actBiases: [ScalarBias?]
    let multiplier: ScalarMultiplier?
    let outputBias: ScalarBias?
  }

  public let config: Configuration
  let stem: Conv2D
  let stemNorm: NormalizationSlot?
  let blocks: [Block]
  let finalNorm: NormalizationSlot?
  let headBias: ScalarBias?
  let head: Dense

  public init(_ config: Configuration, registry: inout ParameterRegistry) {
    precondition(config.inputChannels > 0 && config.classes > 0 && config.stemWidth > 0,
                 "ResNet sizes must be positive")
    precondition(!config.stages.isEmpty && config.stages.allSatisfy { $0.width > 0 && $0.blocks > 0 && $0.stride > 0 },
                 "ResNet stages need positive widths, block counts and strides")
    precondition(config.normalization != .layerNorm, "ResNet takes .batchNorm or .none")
    precondition(!config.fixup || config.normalization == .none, "Fixup is for ResNets without normalization")
    self.config = config
    let norm = config.normalization, fixup = config.fixup
    let m = config.kind.layers, branches = config.branches
    let post = config.order == .postActivation
    stem = Conv2D(config.inputChannels, config.stemWidth, kernel: (3, 3), name: "stem", registry: &registry,
                  initializer: fixup ? .heNormal : .lecunNormal, bias: false)
    stemNorm = post ? NormalizationSlot(norm, width: config.stemWidth, name: "stem_bn", registry: &registry) : nil
    var blocks: [Block] = []
    var channels = config.stemWidth
    for (s, stage) in config.stages.enumerated() {
      for b in 0..<stage.blocks {
        let p = "stages.\(s).blocks.\(b)"
        let stride = b == 0 ? stage.stride : 1
        let out = stage.width * config.kind.expansion
        // (kernel, cin, cout, stride) of each branch convolution.
        let shapes: [(Int, Int, Int, Int)] = config.kind == .basic
          ? [(3, channels, stage.width, stride), (3, stage.width, out, 1)]
          : [(1, channels, stage.width, 1), (3, stage.width, stage.width, stride), (1, stage.width, out, 1)]
        var convs: [Conv2D] = [], norms: [NormalizationSlot] = []
        var convBiases: [ScalarBias?] = [], actBiases: [ScalarBias?] = []
        for (i, (k, cin, cout, st)) in shapes.enumerated() {
          let n = i + 1
          if !post { norms.append(NormalizationSlot(norm, width: cin, name: "\(p).bn\(n)", registry: &registry)) }
          // Pre-activation orders act before every conv; post-activation between convs.
          if fixup && (!post || i > 0) {
            actBiases.append(ScalarBias(name: "\(p).act\(n).input_bias", registry: &registry))
          } else { actBiases.append(nil) }
          convBiases.append(fixup ? ScalarBias(name: "\(p).conv\(n).input_bias", registry: &registry) : nil)
          let initializer: Initializer = !fixup ? .lecunNormal
            : i == shapes.count - 1 ? .zeros
            : Fixup.branchInitializer(fanIn: k * k * cin, branches: branches, layersPerBranch: m)
          convs.append(Conv2D(cin, cout, kernel: (k, k), stride: (st, st), name: "\(p).conv\(n)", registry: &registry,
                              initializer: initializer, bias: false))
          if post { norms.append(NormalizationSlot(norm, width: cout, name: "\(p).bn\(n)", registry: &registry)) }
        }
        let multiplier = fixup ? ScalarMultiplier(name: "\(p).multiplier", registry: &registry) : nil
        let outputBias = fixup ? ScalarBias(name: "\(p).output_bias", registry: &registry) : nil
        var shortcut: Conv2D? = nil, shortcutNorm: NormalizationSlot? = nil
        if stride != 1 || channels != out {
          shortcut = Conv2D(channels, out, kernel: (1, 1), stride: (stride, stride), name: "\(p).shortcut",
                            registry: &registry, initializer: fixup ? .heNormal : .lecunNormal, bias: false)
          if post { shortcutNorm = NormalizationSlot(norm, width: out, name: "\(p).shortcut_bn", registry: &registry) }
        }
        blocks.append(Block(convs: convs, norms: norms, shortcut: shortcut, shortcutNorm: shortcutNorm,
                            convBiases: convBiases, actBiases: actBiases, multiplier: multiplier, outputBias: outputBias))
        channels = out
      }
    }
    self.blocks = blocks
    finalNorm = post ? nil : NormalizationSlot(norm, width: channels, name: "final_bn", registry: &registry)
    headBias = fixup ? ScalarBias(name: "head.input_bias", registry: &registry) : nil
    head = Dense(channels, config.classes, name: "head", registry: &registry, initializer: fixup ? .zeros : .lecunNormal)
  }

  /// ReLU and normalization in the block order's sequence (post-activation: norm then ReLU).
  func activate<S>(_ x: Variable<S>, _ norm: NormalizationSlot?, _ bias: ScalarBias?, _ ctx: ForwardContext<S>) -> Variable<S> {
    let n = { (u: Variable<S>) in norm.map { $0(u, ctx) } ?? u }
    switch config.order {
    case .postActivation, .preActivation: return bias(n(x), ctx).relu()
    case .preActivationReLUBeforeBN: return n(bias(x, ctx).relu())
    }
  }

  func block<S>(_ blk: Block, _ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    var h = x
    var skip = x
    for (i, conv) in blk.convs.enumerated() {
      if config.order == .postActivation {
        if i > 0 { h = activate(h, nil, blk.actBiases[i], ctx) }
        h = blk.norms[i](conv(blk.convBiases[i](h, ctx), ctx), ctx)
      } else {
        h = activate(h, blk.norms[i], blk.actBiases[i], ctx)
        // The projection shortcut reads the pre-activated input (He et al. 2016b; WRN).
        if i == 0, let sc = blk.shortcut { skip = sc(h, ctx) }
        h = conv(blk.convBiases[i](h, ctx), ctx)
      }
    }
    if let multiplier = blk.multiplier { h = multiplier(h, ctx) }
    h = blk.outputBias(h, ctx)
    if config.order == .postActivation {
      if let sc = blk.shortcut { skip = blk.shortcutNorm.map { $0(sc(x, ctx), ctx) } ?? sc(x, ctx) }
      return (h + skip).relu()
    }
    return h + skip
  }

  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    precondition(x.rank == 4 && x.shape[3] == config.inputChannels,
                 "ResNet expects NHWC images with \(config.inputChannels) channels, got \(x.shape)")
    var h = stem(x, ctx)
    if let stemNorm { h = stemNorm(h, ctx).relu() }
    for blk in blocks { h = block(blk, h, ctx) }
    if let finalNorm { h = activate(h, finalNorm, nil, ctx) }
    return head(headBias(h.globalAvgPool2D(), ctx), ctx)
  }
}
