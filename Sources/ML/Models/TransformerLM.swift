/// A decoder-only causal transformer language model (GPT-style).
///
/// Input: token ids [B, T] stored as scalars, T ≤ `context`. Output: logits [B·T, V], row
/// b·T + t predicting the token after position t, so `softmaxCrossEntropy` applies with B·T
/// labels. Blocks, by `layerNorm`:
/// - `.pre` (default, GPT-2): h += Attn(LN₁(h)); h += MLP(LN₂(h)); a final LN before the head.
/// - `.post` (original transformer): h = LN₁(h + Attn(h)); h = LN₂(h + MLP(h)).
/// - `.none`: h += Attn(h); h += MLP(h).
/// MLP(h) = act(h·W₁ + b₁)·W₂ + b₂.
///
/// Checkpoint names: `token_embedding.weight` [V, D], `position_embedding.weight` [context, D];
/// per block i: `blocks.{i}.ln1.scale|bias` [D] and `blocks.{i}.ln2.scale|bias` [D] (`.pre`,
/// `.post`), `blocks.{i}.attention.{query,key,value,output}.weight` [D, D] and `.bias` [D],
/// `blocks.{i}.mlp.fc1.weight` [D, F], `.bias` [F], `blocks.{i}.mlp.fc2.weight` [F, D],
/// `.bias` [D]; `final_norm.scale|bias` [D] (`.pre` only); `head.weight` [D, V], `head.bias` [V].
public struct TransformerLM: Layer {
  /// Where the layer normalizations sit in each block.
  public enum LayerNormPlacement: String, Sendable, CaseIterable { case pre, post, none }

  public struct Configuration: Sendable {
    public var vocabulary: Int
    /// Longest sequence (rows of the position embedding).
    public var context: Int
    public var width: Int
    public var layers: Int
    public var heads: Int
    public var mlpWidth: Int
    public var activation: Activation
    public var layerNorm: LayerNormPlacement
    public var dropout: Double

    public init(vocabulary: Int, context: Int, width: Int, layers: Int, heads: Int, mlpWidth: Int,
                activation: Activation = .gelu, layerNorm: LayerNormPlacement = .pre, dropout: Double = 0) {
      (self.vocabulary, self.context, self.width, self.layers) = (vocabulary, context, width, layers)
      (self.heads, self.mlpWidth, self.activation, self.layerNorm, self.dropout) =
        (heads, mlpWidth, activation, layerNorm, dropout)
    }

    /// Benchmark W3: vocabulary 96, sequence 64, d_model 64, 2 layers, 4 heads, MLP 256, pre-LN.
    public static let w3 = Configuration(vocabulary: 96, context: 64, width: 64, layers: 2, heads: 4, mlpWidth: 256)
  }

  struct Block: Sendable {
    let ln1: LayerNorm?, ln2: LayerNorm?
    let attention: CausalSelfAttention
    let fc1: Dense, fc2: Dense
  }

  public let config: Configuration
  let tokenEmbedding: Embedding, positionEmbedding: Embedding
  let blocks: [Block]
  let finalNorm: LayerNorm?
  let head: Dense

  public init(_ config: Configuration, registry: inout ParameterRegistry) {
    precondition(config.vocabulary > 0 && config.context > 0 && config.width > 0 && config.layers >= 0
                 && config.mlpWidth > 0, "TransformerLM sizes must be positive")
    precondition(config.dropout >= 0 && config.dropout < 1, "dropout must be in [0, 1)")
    self.config = config
    if config.dropout > 0 { registry.noteRandomness() }
    let d = config.width
    tokenEmbedding = Embedding(vocabulary: config.vocabulary, dimension: d, name: "token_embedding", registry: &registry)
    positionEmbedding = Embedding(vocabulary: config.context, dimension: d, name: "position_embedding", registry: &registry)
    var blocks: [Block] = []
    for i in 0..<config.layers {
      let p = "blocks.\(i)"
      let norms = config.layerNorm != .none
      let ln1 = norms ? LayerNorm(d, name: "\(p).ln1", registry: &registry) : nil
      let attention = CausalSelfAttention(width: d, heads: config.heads, name: "\(p).attention",
                                          registry: &registry, dropout: config.dropout)
      let ln2 = norms ? LayerNorm(d, name: "\(p).ln2", registry: &registry) : nil
      let fc1 = Dense(d, config.mlpWidth, name: "\(p).mlp.fc1", registry: &registry)
      let fc2 = Dense(config.mlpWidth, d, name: "\(p).mlp.fc2", registry: &registry)
      blocks.append(Block(ln1: ln1, ln2: ln2, attention: attention, fc1: fc1, fc2: fc2))
    }
    self.blocks = blocks
    finalNorm = config.layerNorm == .pre ? LayerNorm(d, name: "final_norm", registry: &registry) : nil
    head = Dense(d, config.vocabulary, name: "head", registry: &registry)
  }

  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    precondition(x.rank == 2, "TransformerLM expects token ids [B, T], got \(x.shape)")
    let (b, t) = (x.shape[0], x.shape[1])
    precondition(t <= config.context, "sequence length \(t) exceeds the context \(config.context)")
    let positions = Variable<S>(constant: Tensor(shape: [t], scalars: (0..<t).map { S($0) }))
    var h = tokenEmbedding(x, ctx) + positionEmbedding(positions, ctx)
    let drop = Dropout(rate: config.dropout)
    // A missing norm (placement `.none`) is the identity.
    func norm(_ ln: LayerNorm?, _ u: Variable<S>) -> Variable<S> { ln.map { $0(u, ctx) } ?? u }
    for block in blocks {
      let mlp = { (u: Variable<S>) -> Variable<S> in
        drop(block.fc2(config.activation(block.fc1(u, ctx)), ctx), ctx)
      }
      let attend = { (u: Variable<S>) -> Variable<S> in drop(block.attention(u, ctx), ctx) }
      switch config.layerNorm {
      case .pre:
        h = residual(h) { attend(norm(block.ln1, $0)) }
        h = residual(h) { mlp(norm(block.ln2, $0)) }
      case .post:
        h = norm(block.ln1, residual(h, attend))
        h = norm(block.ln2, residual(h, mlp))
      case .none:
        h = residual(h, attend)
        h = residual(h, mlp)
      }
    }
    if let finalNorm { h = finalNorm(h, ctx) }
    return head(h.reshaped([b * t, config.width]), ctx)
  }
}
