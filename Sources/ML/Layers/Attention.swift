/// Causal multi-head self-attention (Vaswani et al. 2017) on x [B, T, D] with H heads of width
/// d = D/H:
///   Q, K, V = x·W_q + b_q, x·W_k + b_k, x·W_v + b_v, each split into [B, H, T, d];
///   A = softmax(Q·Kᵀ/√d + M) with M[i, j] = −∞ for j > i (a token sees only the past);
///   y = concat_h(A·V)·W_o + b_o.
/// Every step is an existing differentiable op (batched matmul, transpose, softmax), so the
/// gradient and HVP are exact. The mask is applied inside the fused causal softmax, which gives
/// masked keys weight exactly 0 (and skips their exponentials), so nothing leaks from the
/// future. Optional dropout on A in `.training`.
/// Parameters `{name}.query|key|value|output.weight` [D, D] and `.bias` [D].
public struct CausalSelfAttention: Layer {
  public let width: Int, heads: Int
  public let dropout: Double
  public let query: Dense, key: Dense, value: Dense, output: Dense

  public init(width: Int, heads: Int, name: String, registry: inout ParameterRegistry, dropout: Double = 0) {
    precondition(width > 0 && heads > 0 && width % heads == 0,
                 "attention width \(width) must be a positive multiple of the head count \(heads)")
    precondition(dropout >= 0 && dropout < 1, "attention dropout must be in [0, 1)")
    self.width = width
    self.heads = heads
    self.dropout = dropout
    if dropout > 0 { registry.noteRandomness() }
    query = Dense(width, width, name: "\(name).query", registry: &registry)
    key = Dense(width, width, name: "\(name).key", registry: &registry)
    value = Dense(width, width, name: "\(name).value", registry: &registry)
    output = Dense(width, width, name: "\(name).output", registry: &registry)
  }

  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    precondition(x.rank == 3 && x.shape[2] == width, "attention(\(width)) expects [B, T, \(width)], got \(x.shape)")
    let (b, t) = (x.shape[0], x.shape[1])
    let d = width / heads
    func split(_ y: Variable<S>) -> Variable<S> { y.reshaped([b, t, heads, d]).transposed([0, 2, 1, 3]) }
    // Scaling Q (B·T·D entries) is cheaper than scaling the scores (B·H·T² entries).
    let q = split(query(x, ctx).affine(scale: 1 / S(d).squareRoot()))
    let k = split(key(x, ctx)), v = split(value(x, ctx))
    let scores = Variable.matmul(q, k, transposeB: true)
    var weights = scores.softmax(causal: true)
    if dropout > 0 { weights = Dropout(rate: dropout)(weights, ctx) }
    let mixed = Variable.matmul(weights, v).transposed([0, 2, 1, 3]).reshaped([b, t, width])
    return output(mixed, ctx)
  }
}

/// Multi-head attention of queries from x [B, Tq, D] over keys and values from a memory
/// m [B, Tk, D] (Vaswani et al. 2017), with H heads of width d = D/H:
///   Q = x·W_q + b_q, K = m·W_k + b_k, V = m·W_v + b_v, each split into heads;
///   A = softmax(Q·Kᵀ/√d [+ causal mask]); y = concat_h(A·V)·W_o + b_o.
/// Self-attention is m = x: non-causal in a translation encoder, causal (query i sees keys
/// j ≤ i, which needs Tq = Tk) in a decoder; cross-attention is a decoder attending to the
/// encoder's output, never masked. The same ops as `CausalSelfAttention`, so exact HVPs.
/// Parameters `{name}.query|key|value|output.weight` [D, D] and `.bias` [D].
public struct MultiHeadAttention: Layer {
  public let width: Int, heads: Int
  public let causal: Bool
  public let dropout: Double
  public let query: Dense, key: Dense, value: Dense, output: Dense

  public init(width: Int, heads: Int, causal: Bool, name: String, registry: inout ParameterRegistry,
              dropout: Double = 0) {
    precondition(width > 0 && heads > 0 && width % heads == 0,
                 "attention width \(width) must be a positive multiple of the head count \(heads)")
    precondition(dropout >= 0 && dropout < 1, "attention dropout must be in [0, 1)")
    (self.width, self.heads, self.causal, self.dropout) = (width, heads, causal, dropout)
    if dropout > 0 { registry.noteRandomness() }
    query = Dense(width, width, name: "\(name).query", registry: &registry)
    key = Dense(width, width, name: "\(name).key", registry: &registry)
    value = Dense(width, width, name: "\(name).value", registry: &registry)
    output = Dense(width, width, name: "\(name).output", registry: &registry)
  }

  /// Self-attention, y = Attn(x, x).
  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    self(x, memory: x, ctx)
  }

  /// Attention of x's positions over the memory's positions.
  public func callAsFunction<S>(_ x: Variable<S>, memory m: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    precondition(x.rank == 3 && x.shape[2] == width, "attention(\(width)) expects queries [B, T, \(width)], got \(x.shape)")
    precondition(m.rank == 3 && m.shape[2] == width && m.shape[0] == x.shape[0],
                 "attention(\(width)) expects memory [\(x.shape[0]), T, \(width)], got \(m.shape)")
    let (b, tq, tk) = (x.shape[0], x.shape[1], m.shape[1])
    precondition(!causal || tq == tk, "causal attention needs as many queries as keys, got \(tq) and \(tk)")
    let d = width / heads
    func split(_ y: Variable<S>, _ t: Int) -> Variable<S> { y.reshaped([b, t, heads, d]).transposed([0, 2, 1, 3]) }
    let q = split(query(x, ctx).affine(scale: 1 / S(d).squareRoot()), tq)
    let k = split(key(m, ctx), tk), v = split(value(m, ctx), tk)
    var weights = Variable.matmul(q, k, transposeB: true).softmax(causal: causal)
    if dropout > 0 { weights = Dropout(rate: dropout)(weights, ctx) }
    let mixed = Variable.matmul(weights, v).transposed([0, 2, 1, 3]).reshaped([b, tq, width])
    return output(mixed, ctx)
  }
}
