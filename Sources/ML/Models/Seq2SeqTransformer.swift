/// An encoder–decoder transformer for translation (Vaswani et al. 2017), the paper's WMT model,
/// in the same three LayerNorm placements as `TransformerLM` (Xiong et al. 2020).
///
/// Input: [B, T, 2] ids stored as scalars, channel 0 the source sentence and channel 1 the
/// decoder input (the target shifted right), both padded to one length T ≤ `context` (see
/// `pack(source:target:)`); one tensor keeps `Batch`'s [B, T] label layout. Output: logits
/// [B·T, V], row b·T + t predicting target token t + 1. No padding mask: pad tokens are
/// ordinary tokens.
///
/// Encoder (non-causal): e = E_src[src] + P_enc; per layer, by placement,
///   pre:  e += SA(LN₁e); e += MLP(LN₂e), then a final LN;   post: e = LN₁(e + SA(e)); e = LN₂(e + MLP(e));
///   none: e += SA(e); e += MLP(e).
/// Decoder: h = E_tgt[tgt] + P_dec; per layer the same pattern over three sub-layers,
/// causal self-attention, cross-attention to the encoder output e (every source position), MLP;
/// pre-LN ends with a final LN. Head: logits = h·W + b. MLP(u) = act(u·W₁ + b₁)·W₂ + b₂.
///
/// Checkpoint names: `source_embedding.weight`, `target_embedding.weight` [V, D];
/// `encoder_position.weight`, `decoder_position.weight` [context, D]; per encoder layer
/// `encoder.{i}.ln1|ln2.scale|bias` [D] (pre, post), `encoder.{i}.attention.{query,key,value,output}.weight`
/// [D, D] and `.bias` [D], `encoder.{i}.mlp.fc1.weight` [D, F], `.bias` [F], `encoder.{i}.mlp.fc2.weight`
/// [F, D], `.bias` [D]; `encoder_norm.scale|bias` [D] (pre); per decoder layer
/// `decoder.{i}.ln1|ln2|ln3.scale|bias` [D], `decoder.{i}.self_attention.*`, `decoder.{i}.cross_attention.*`
/// (as the encoder's attention), `decoder.{i}.mlp.fc1|fc2.*`; `decoder_norm.scale|bias` [D] (pre);
/// `head.weight` [D, V], `head.bias` [V].
public struct Seq2SeqTransformer: Layer {
  public typealias LayerNormPlacement = TransformerLM.LayerNormPlacement

  public struct Configuration: Sendable {
    /// Shared by source and target.
    public var vocabulary: Int
    public var context: Int
    public var width: Int
    public var encoderLayers: Int
    public var decoderLayers: Int
    public var heads: Int
    public var mlpWidth: Int
    public var activation: Activation
    public var layerNorm: LayerNormPlacement
    public var dropout: Double
    /// The standard deviation of the token embeddings' initialization: GPT-2's 0.02 by default;
    /// 1 in the Flax WMT model the paper trained (`nn.Embed(embedding_init=normal(1.0))`), whose
    /// no-LayerNorm variant then starts with large activations and curvature.
    public var embeddingStd: Double

    public init(vocabulary: Int, context: Int, width: Int, encoderLayers: Int, decoderLayers: Int, heads: Int,
                mlpWidth: Int, activation: Activation = .relu, layerNorm: LayerNormPlacement = .pre, dropout: Double = 0,
                embeddingStd: Double = 0.02) {
      (self.vocabulary, self.context, self.width) = (vocabulary, context, width)
      (self.encoderLayers, self.decoderLayers, self.heads, self.mlpWidth) = (encoderLayers, decoderLayers, heads, mlpWidth)
      (self.activation, self.layerNorm, self.dropout, self.embeddingStd) = (activation, layerNorm, dropout, embeddingStd)
    }
  }

  struct MLPBlock: Sendable {
    let fc1: Dense, fc2: Dense
    init(_ d: Int, _ f: Int, name: String, registry: inout ParameterRegistry) {
      fc1 = Dense(d, f, name: "\(name).fc1", registry: &registry)
      fc2 = Dense(f, d, name: "\(name).fc2", registry: &registry)
    }
  }

  struct EncoderLayer: Sendable {
    let ln1: LayerNorm?, attention: MultiHeadAttention, ln2: LayerNorm?, mlp: MLPBlock
  }

  struct DecoderLayer: Sendable {
    let ln1: LayerNorm?, selfAttention: MultiHeadAttention
    let ln2: LayerNorm?, crossAttention: MultiHeadAttention
    let ln3: LayerNorm?, mlp: MLPBlock
  }

  public let config: Configuration
  let sourceEmbedding: Embedding, targetEmbedding: Embedding
  let encoderPosition: Embedding, decoderPosition: Embedding
  let encoder: [EncoderLayer], decoder: [DecoderLayer]
  let encoderNorm: LayerNorm?, decoderNorm: LayerNorm?
  let head: Dense

  public init(_ config: Configuration, registry: inout ParameterRegistry) {
    precondition(config.vocabulary > 0 && config.context > 0 && config.width > 0 && config.mlpWidth > 0
                 && config.encoderLayers >= 0 && config.decoderLayers >= 0, "Seq2SeqTransformer sizes must be positive")
    precondition(config.dropout >= 0 && config.dropout < 1, "dropout must be in [0, 1)")
    self.config = config
    if config.dropout > 0 { registry.noteRandomness() }
    let (d, f, h, v) = (config.width, config.mlpWidth, config.heads, config.vocabulary)
    let norms = config.layerNorm != .none, drop = config.dropout
    func ln(_ name: String) -> LayerNorm? { norms ? LayerNorm(d, name: name, registry: &registry) : nil }
    precondition(config.embeddingStd > 0, "embeddingStd must be positive")
    let tokens = Initializer.normal(std: config.embeddingStd)
    sourceEmbedding = Embedding(vocabulary: v, dimension: d, name: "source_embedding", registry: &registry, initializer: tokens)
    targetEmbedding = Embedding(vocabulary: v, dimension: d, name: "target_embedding", registry: &registry, initializer: tokens)
    encoderPosition = Embedding(vocabulary: config.context, dimension: d, name: "encoder_position", registry: &registry)
    decoderPosition = Embedding(vocabulary: config.context, dimension: d, name: "decoder_position", registry: &registry)
    var encoder: [EncoderLayer] = []
    for i in 0..<config.encoderLayers {
      let p = "encoder.\(i)"
      let ln1 = ln("\(p).ln1")
      let attention = MultiHeadAttention(width: d, heads: h, causal: false, name: "\(p).attention",
                                         registry: &registry, dropout: drop)
      let ln2 = ln("\(p).ln2")
      encoder.append(EncoderLayer(ln1: ln1, attention: attention, ln2: ln2,
                                  mlp: MLPBlock(d, f, name: "\(p).mlp", registry: &registry)))
    }
    self.encoder = encoder
    encoderNorm = config.layerNorm == .pre ? LayerNorm(d, name: "encoder_norm", registry: &registry) : nil
    var decoder: [DecoderLayer] = []
    for i in 0..<config.decoderLayers {
      let p = "decoder.\(i)"
      let ln1 = ln("\(p).ln1")
      let sa = MultiHeadAttention(width: d, heads: h, causal: true, name: "\(p).self_attention",
                                  registry: &registry, dropout: drop)
      let ln2 = ln("\(p).ln2")
      let ca = MultiHeadAttention(width: d, heads: h, causal: false, name: "\(p).cross_attention",
                                  registry: &registry, dropout: drop)
      let ln3 = ln("\(p).ln3")
      decoder.append(DecoderLayer(ln1: ln1, selfAttention: sa, ln2: ln2, crossAttention: ca, ln3: ln3,
                                  mlp: MLPBlock(d, f, name: "\(p).mlp", registry: &registry)))
    }
    self.decoder = decoder
    decoderNorm = config.layerNorm == .pre ? LayerNorm(d, name: "decoder_norm", registry: &registry) : nil
    head = Dense(d, v, name: "head", registry: &registry)
  }

  /// Packs source and decoder-input ids, each [B][T], into the [B, T, 2] input.
  public static func pack<S: TensorScalar>(source: [[Int]], target: [[Int]]) -> Tensor<S> {
    precondition(source.count == target.count && !source.isEmpty, "pack: \(source.count) sources for \(target.count) targets")
    let t = source[0].count
    precondition(source.allSatisfy { $0.count == t } && target.allSatisfy { $0.count == t },
                 "pack: every sentence must be padded to length \(t)")
    var scalars: [S] = []
    scalars.reserveCapacity(source.count * t * 2)
    for (s, g) in zip(source, target) { for i in 0..<t { scalars.append(S(s[i])); scalars.append(S(g[i])) } }
    return Tensor(shape: [source.count, t, 2], scalars: scalars)
  }

  /// One sub-layer with its residual and normalization in the configured placement.
  func sublayer<S>(_ h: Variable<S>, _ norm: LayerNorm?, _ ctx: ForwardContext<S>,
                   _ f: (Variable<S>) -> Variable<S>) -> Variable<S> {
    let drop = Dropout(rate: config.dropout)
    func g(_ u: Variable<S>) -> Variable<S> { drop(f(u), ctx) }
    switch config.layerNorm {
    case .pre: return residual(h) { u in g(norm.map { $0(u, ctx) } ?? u) }
    case .post: return norm.map { $0(residual(h, g), ctx) } ?? residual(h, g)
    case .none: return residual(h, g)
    }
  }

  func mlp<S>(_ m: MLPBlock, _ u: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    m.fc2(config.activation(m.fc1(u, ctx)), ctx)
  }

  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    precondition(x.rank == 3 && x.shape[2] == 2, "Seq2SeqTransformer expects [B, T, 2] ids, got \(x.shape)")
    precondition(!x.isTracked, "Seq2SeqTransformer ids must be constants")
    let (b, t) = (x.shape[0], x.shape[1])
    precondition(t <= config.context, "sequence length \(t) exceeds the context \(config.context)")
    let source = Variable(constant: x.primal.sliced(alongAxis: 2, 0..<1).reshaped([b, t]))
    let target = Variable(constant: x.primal.sliced(alongAxis: 2, 1..<2).reshaped([b, t]))
    let positions = Variable<S>(constant: Tensor(shape: [t], scalars: (0..<t).map { S($0) }))
    var e = sourceEmbedding(source, ctx) + encoderPosition(positions, ctx)
    for layer in encoder {
      e = sublayer(e, layer.ln1, ctx) { layer.attention($0, ctx) }
      e = sublayer(e, layer.ln2, ctx) { mlp(layer.mlp, $0, ctx) }
    }
    if let encoderNorm { e = encoderNorm(e, ctx) }
    var h = targetEmbedding(target, ctx) + decoderPosition(positions, ctx)
    for layer in decoder {
      h = sublayer(h, layer.ln1, ctx) { layer.selfAttention($0, ctx) }
      h = sublayer(h, layer.ln2, ctx) { layer.crossAttention($0, memory: e, ctx) }
      h = sublayer(h, layer.ln3, ctx) { mlp(layer.mlp, $0, ctx) }
    }
    if let decoderNorm { h = decoderNorm(h, ctx) }
    return head(h.reshaped([b * t, config.width]), ctx)
  }
}
