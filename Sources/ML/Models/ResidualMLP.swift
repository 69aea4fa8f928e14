/// A residual MLP: the cheapest faithful analogue of the paper's WRN without BatchNorm (SPEC,
/// "Facts"): the phenomena live in deep residual networks without normalization, which a plain
/// MLP does not show.
///
///   h₀ = x·W_in + b_in                                   (x flattened to [N, inputs])
///   h_{l+1} = h_l + act(N_l(h_l)·W₁ + b₁)·W₂ + b₂         (l = 0 … L−1)
///   logits = N_f(h_L)·W_head + b_head
/// with N_l, N_f LayerNorm, BatchNorm or the identity (`.none`). Initialization LeCun normal.
/// With `fixup` (normalization `.none`): no vector biases in the branches; a scalar bias before
/// fc1, before the activation and before fc2, a scalar multiplier and a scalar output bias on
/// each branch; W₁ He normal × L^(−1/2), W₂ and the head zero (see `Fixup`).
///
/// Checkpoint names: `input.weight` [inputs, D], `input.bias` [D]; per block i:
/// `blocks.{i}.norm.scale|bias` [D] (with normalization), `blocks.{i}.fc1.weight` [D, F],
/// `blocks.{i}.fc1.bias` [F], `blocks.{i}.fc2.weight` [F, D], `blocks.{i}.fc2.bias` [D] (the
/// biases without Fixup), Fixup's `blocks.{i}.fc1.input_bias`, `blocks.{i}.act.input_bias`,
/// `blocks.{i}.fc2.input_bias`, `blocks.{i}.multiplier`, `blocks.{i}.output_bias` (all [1]);
/// `final_norm.scale|bias` [D] (with normalization); `head.weight` [D, classes],
/// `head.bias` [classes].
public struct ResidualMLP: Layer {
  public struct Configuration: Sendable {
    public var inputs: Int
    public var width: Int
    public var hiddenWidth: Int
    public var blocks: Int
    public var classes: Int
    public var activation: Activation
    public var normalization: NormalizationKind
    public var fixup: Bool

    public init(inputs: Int, width: Int, hiddenWidth: Int, blocks: Int, classes: Int = 10,
                activation: Activation = .relu, normalization: NormalizationKind = .none, fixup: Bool = false) {
      (self.inputs, self.width, self.hiddenWidth, self.blocks) = (inputs, width, hiddenWidth, blocks)
      (self.classes, self.activation, self.normalization, self.fixup) = (classes, activation, normalization, fixup)
    }
  }

  struct Block: Sendable {
    let norm: NormalizationSlot
    let fc1: Dense, fc2: Dense
    let fc1Bias: ScalarBias?, actBias: ScalarBias?, fc2Bias: ScalarBias?
    let multiplier: ScalarMultiplier?, outputBias: ScalarBias?
  }

  public let config: Configuration
  let input: Dense
  let blocks: [Block]
  let finalNorm: NormalizationSlot
  let head: Dense

  public init(_ config: Configuration, registry: inout ParameterRegistry) {
    precondition(config.inputs > 0 && config.width > 0 && config.hiddenWidth > 0 && config.blocks >= 0
                 && config.classes > 0, "ResidualMLP sizes must be positive")
    precondition(!config.fixup || (config.normalization == .none && config.blocks > 0),
                 "Fixup is for residual MLPs without normalization, with at least one block")
    self.config = config
    let (d, f, fixup) = (config.width, config.hiddenWidth, config.fixup)
    input = Dense(config.inputs, d, name: "input", registry: &registry)
    var blocks: [Block] = []
    for i in 0..<config.blocks {
      let p = "blocks.\(i)"
      let norm = NormalizationSlot(config.normalization, width: d, name: "\(p).norm", registry: &registry)
      func scalar(_ n: String) -> ScalarBias? { fixup ? ScalarBias(name: "\(p).\(n)", registry: &registry) : nil }
      let fc1Bias = scalar("fc1.input_bias")
      let fc1 = Dense(d, f, name: "\(p).fc1", registry: &registry,
                      initializer: fixup ? Fixup.branchInitializer(fanIn: d, branches: config.blocks, layersPerBranch: 2)
                                         : .lecunNormal, bias: !fixup)
      let actBias = scalar("act.input_bias")
      let fc2Bias = scalar("fc2.input_bias")
      let fc2 = Dense(f, d, name: "\(p).fc2", registry: &registry, initializer: fixup ? .zeros : .lecunNormal, bias: !fixup)
      let multiplier = fixup ? ScalarMultiplier(name: "\(p).multiplier", registry: &registry) : nil
      let outputBias = scalar("output_bias")
      blocks.append(Block(norm: norm, fc1: fc1, fc2: fc2, fc1Bias: fc1Bias, actBias: actBias, fc2Bias: fc2Bias,
                          multiplier: multiplier, outputBias: outputBias))
    }
    self.blocks = blocks
    finalNorm = NormalizationSlot(config.normalization, width: d, name: "final_norm", registry: &registry)
    head = Dense(d, config.classes, name: "head", registry: &registry, initializer: fixup ? .zeros : .lecunNormal)
  }

  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    let flat = x.rank == 2 ? x : x.reshaped([x.shape[0], -1])
    precondition(flat.shape[1] == config.inputs, "ResidualMLP expects \(config.inputs) features, got \(x.shape)")
    var h = input(flat, ctx)
    for blk in blocks {
      h = residual(h) { u in
        var b = blk.fc1(blk.fc1Bias(blk.norm(u, ctx), ctx), ctx)
        b = config.activation(blk.actBias(b, ctx))
        b = blk.fc2(blk.fc2Bias(b, ctx), ctx)
        if let m = blk.multiplier { b = m(b, ctx) }
        return blk.outputBias(b, ctx)
      }
    }
    return head(finalNorm(h, ctx), ctx)
  }
}
