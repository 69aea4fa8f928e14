import Foundation
import Testing
@testable import ML

/// Random parameters (so γ, β, biases and Fixup's zeros are off their special values).
func randomParameters(_ network: Network, seed: UInt64 = 1, std: Double = 0.5) -> [Tensor<Double>] {
  network.parameterSpecs.enumerated().map { i, spec in randomTensor(spec.shape, seed: seed &+ UInt64(i) &* 31, std: std) }
}

/// Gradient and HVP of the cross-entropy loss with respect to every parameter, in `.curvature`
/// mode (BatchNorm with batch statistics, dropout off), against finite differences.
func checkNetwork(_ what: String, _ network: Network, _ batch: Batch<Double>, seed: UInt64 = 1, std: Double = 0.5,
                  h: Double = 1e-5, sourceLocation: SourceLocation = #_sourceLocation) {
  let params = randomParameters(network, seed: seed, std: std)
  let buffers: [Tensor<Double>] = network.initialBuffers()
  let f = { (vars: [Variable<Double>]) -> Variable<Double> in
    network.objective(vars, batch: batch, context: ForwardContext(parameters: vars, buffers: buffers, mode: .curvature))
  }
  checkGradient(what, at: params, sourceLocation: sourceLocation, f)
  checkHVP(what, at: params, h: h, sourceLocation: sourceLocation, f)
}

func logits(_ network: Network, _ params: [Tensor<Double>], _ x: Tensor<Double>, labels: Int) -> Tensor<Double> {
  network.evaluate(parameters: params, buffers: network.initialBuffers(),
                   batch: Batch(inputs: x, labels: Array(repeating: 0, count: labels)), mode: .curvature).logits
}

func spec(_ network: Network, _ name: String) -> ParameterSpec? { network.parameterSpecs.first { $0.name == name } }

@Suite("Model families")
struct ModelFamilyTests {
  static let images: Tensor<Double> = randomTensor([2, 6, 6, 1], seed: 71)
  static let imageBatch = Batch(inputs: images, labels: [2, 0])

  // MARK: Concatenation primitive

  @Test func concatenationAndSlice() {
    let a: Tensor<Double> = randomTensor([2, 3, 2], seed: 1), b: Tensor<Double> = randomTensor([2, 3, 1], seed: 2)
    let c = Tensor.concatenated([a, b], alongAxis: 2)
    #expect(c.shape == [2, 3, 3])
    #expect(c[1, 2, 0] == a[1, 2, 0] && c[1, 2, 1] == a[1, 2, 1] && c[1, 2, 2] == b[1, 2, 0] && c[0, 1, 2] == b[0, 1, 0])
    expectClose(c.sliced(alongAxis: 2, 0..<2), a, rtol: 0, atol: 0, "slice back a")
    expectClose(c.sliced(alongAxis: 2, 2..<3), b, rtol: 0, atol: 0, "slice back b")
    let d = Tensor.concatenated([a, a], alongAxis: 0)
    #expect(d.shape == [4, 3, 2] && d[3, 1, 1] == a[1, 1, 1])
    for axis in 0..<3 {
      let other: Tensor<Double> = randomTensor(axis == 0 ? [1, 3, 2] : axis == 1 ? [2, 2, 2] : [2, 3, 3], seed: 3)
      checkGradient("concat axis \(axis)", at: [a, other]) { scalarized(Variable.concatenated([$0[0], $0[1]], alongAxis: axis)) }
      checkHVP("concat axis \(axis)", at: [a, other]) { scalarized(Variable.concatenated([$0[0], $0[1]], alongAxis: axis)) }
    }
    checkGradient("slice", at: [a]) { scalarized($0[0].sliced(alongAxis: 1, 1..<3)) }
    checkHVP("slice", at: [a]) { scalarized($0[0].sliced(alongAxis: 1, 1..<3)) }
    // A curved function of both halves: second derivatives couple the parts through the concat.
    checkHVP("concat then slice", at: [a, b]) { v in
      let c = Variable.concatenated([v[0].tanh(), v[1]], alongAxis: 2)
      return scalarized(c.sliced(alongAxis: 2, 1..<3) * c.sliced(alongAxis: 2, 0..<2))
    }
  }

  // MARK: ResNet and WRN

  static func tinyResNet(_ order: ResNet.BlockOrder, _ kind: ResNet.BlockKind, _ norm: NormalizationKind,
                         fixup: Bool = false) -> ResNet.Configuration {
    ResNet.Configuration(inputChannels: 1, classes: 3, stemWidth: 2,
                         stages: [.init(width: 2, blocks: 1, stride: 1), .init(width: 2, blocks: 1, stride: 2)],
                         order: order, kind: kind, normalization: norm, fixup: fixup)
  }

  @Test(arguments: ResNet.BlockOrder.allCases, [NormalizationKind.batchNorm, .none])
  func resnetBasic(order: ResNet.BlockOrder, norm: NormalizationKind) {
    let network = Network { ResNet(Self.tinyResNet(order, .basic, norm), registry: &$0) }
    checkNetwork("ResNet \(order) basic \(norm)", network, Self.imageBatch)
  }

  @Test(arguments: ResNet.BlockOrder.allCases, [NormalizationKind.batchNorm, .none])
  func resnetBottleneck(order: ResNet.BlockOrder, norm: NormalizationKind) {
    let network = Network { ResNet(Self.tinyResNet(order, .bottleneck, norm), registry: &$0) }
    // BatchNorm over 18 positions per channel is strongly curved: a smaller difference step.
    checkNetwork("ResNet \(order) bottleneck \(norm)", network, Self.imageBatch, h: 3e-7)
  }

  @Test(arguments: ResNet.BlockOrder.allCases)
  func resnetFixup(order: ResNet.BlockOrder) {
    let network = Network { ResNet(Self.tinyResNet(order, .basic, .none, fixup: true), registry: &$0) }
    checkNetwork("ResNet \(order) Fixup", network, Self.imageBatch)
  }

  @Test func resnetParameterNames() {
    let post = Network { ResNet(Self.tinyResNet(.postActivation, .basic, .batchNorm), registry: &$0) }
    #expect(post.parameterSpecs.map(\.name) == [
      "stem.weight", "stem_bn.scale", "stem_bn.bias",
      "stages.0.blocks.0.conv1.weight", "stages.0.blocks.0.bn1.scale", "stages.0.blocks.0.bn1.bias",
      "stages.0.blocks.0.conv2.weight", "stages.0.blocks.0.bn2.scale", "stages.0.blocks.0.bn2.bias",
      "stages.1.blocks.0.conv1.weight", "stages.1.blocks.0.bn1.scale", "stages.1.blocks.0.bn1.bias",
      "stages.1.blocks.0.conv2.weight", "stages.1.blocks.0.bn2.scale", "stages.1.blocks.0.bn2.bias",
      "stages.1.blocks.0.shortcut.weight", "stages.1.blocks.0.shortcut_bn.scale", "stages.1.blocks.0.shortcut_bn.bias",
      "head.weight", "head.bias"])
    #expect(spec(post, "stages.1.blocks.0.conv1.weight")?.shape == [3, 3, 2, 2])
    #expect(spec(post, "stages.1.blocks.0.shortcut.weight")?.shape == [1, 1, 2, 2])
    let bottleneck = Network { ResNet(Self.tinyResNet(.preActivation, .bottleneck, .batchNorm), registry: &$0) }
    #expect(spec(bottleneck, "stages.0.blocks.0.bn1.scale")?.shape == [2])
    #expect(spec(bottleneck, "stages.0.blocks.0.conv1.weight")?.shape == [1, 1, 2, 2])
    #expect(spec(bottleneck, "stages.0.blocks.0.conv2.weight")?.shape == [3, 3, 2, 2])
    #expect(spec(bottleneck, "stages.0.blocks.0.conv3.weight")?.shape == [1, 1, 2, 8])
    #expect(spec(bottleneck, "stages.1.blocks.0.bn1.scale")?.shape == [8])
    #expect(spec(bottleneck, "stages.0.blocks.0.shortcut.weight")?.shape == [1, 1, 2, 8])
    #expect(spec(bottleneck, "final_bn.scale")?.shape == [8] && spec(bottleneck, "head.weight")?.shape == [8, 3])
    #expect(bottleneck.bufferSpecs.contains { $0.name == "final_bn.running_var" })
  }

  /// The block orders differ where the paper says they do: ReLU before BN is another function.
  @Test func resnetOrdersDiffer() {
    let outputs = ResNet.BlockOrder.allCases.map { order -> Tensor<Double> in
      let network = Network { ResNet(Self.tinyResNet(order, .basic, .batchNorm), registry: &$0) }
      return logits(network, randomParameters(network), Self.images, labels: 2)
    }
    #expect(outputs[0].shape == [2, 3])
    #expect(outputs[1].scalars != outputs[2].scalars && outputs[0].scalars != outputs[1].scalars)
  }

  @Test(arguments: [NormalizationKind.batchNorm, .none])
  func wideResNet(norm: NormalizationKind) {
    let config = WideResNet.Configuration(depth: 10, widen: 1, baseWidth: 1, inputChannels: 1, classes: 3,
                                          normalization: norm)
    let network = Network { WideResNet(config, registry: &$0) }
    checkNetwork("WRN-10-1 \(norm)", network, Self.imageBatch)
  }

  @Test func wideResNetFixup() {
    let config = WideResNet.Configuration(depth: 10, widen: 1, baseWidth: 1, inputChannels: 1, classes: 3,
                                          normalization: .none, fixup: true)
    let network = Network { WideResNet(config, registry: &$0) }
    checkNetwork("WRN-10-1 Fixup", network, Self.imageBatch)
    // L = 3 branches of m = 2 convolutions: conv1 is He normal × 3^(−1/2), conv2 zero.
    #expect(spec(network, "stages.2.blocks.0.conv1.weight")?.initializer == .normal(std: (2.0 / 18).squareRoot() * pow(3, -0.5)))
    #expect(spec(network, "stages.2.blocks.0.conv2.weight")?.initializer == .zeros)
    #expect(spec(network, "head.weight")?.initializer == .zeros)
  }

  @Test func wideResNetStructure() {
    let config = WideResNet.Configuration(depth: 16, widen: 2, baseWidth: 4, inputChannels: 1, classes: 10)
    #expect(config.blocksPerStage == 2)
    let network = Network { WideResNet(config, registry: &$0) }
    let names = network.parameterSpecs.map(\.name)
    #expect(Array(names.prefix(6)) == ["stem.weight", "stages.0.blocks.0.bn1.scale", "stages.0.blocks.0.bn1.bias",
                                        "stages.0.blocks.0.conv1.weight", "stages.0.blocks.0.bn2.scale",
                                        "stages.0.blocks.0.bn2.bias"])
    #expect(spec(network, "stem.weight")?.shape == [3, 3, 1, 4])
    #expect(spec(network, "stages.0.blocks.0.conv1.weight")?.shape == [3, 3, 4, 8])
    #expect(spec(network, "stages.0.blocks.0.shortcut.weight")?.shape == [1, 1, 4, 8])
    #expect(spec(network, "stages.0.blocks.1.shortcut.weight") == nil)
    #expect(spec(network, "stages.2.blocks.1.conv2.weight")?.shape == [3, 3, 32, 32])
    #expect(spec(network, "final_bn.scale")?.shape == [32] && spec(network, "head.weight")?.shape == [32, 10])
    let noBN = Network { WideResNet(WideResNet.Configuration(depth: 16, widen: 2, baseWidth: 4, inputChannels: 1,
                                                             normalization: .none), registry: &$0) }
    #expect(!noBN.parameterSpecs.contains { $0.name.contains("bn") } && noBN.bufferSpecs.isEmpty)
    #expect(noBN.parameterCount == network.parameterCount
            - network.parameterSpecs.filter { $0.name.contains("bn") }.reduce(0) { $0 + $1.shape.reduce(1, *) })
    let y = logits(network, network.initialParameters(seed: 1), randomTensor([2, 14, 14, 1], seed: 5), labels: 2)
    #expect(y.shape == [2, 10])
  }

  // MARK: Fixup

  @Test func fixupInitialization() {
    // Three identity-shortcut blocks: L = 3, m = 2.
    let config = ResNet.Configuration(inputChannels: 1, classes: 3, stemWidth: 2,
                                      stages: [.init(width: 2, blocks: 3, stride: 1)],
                                      order: .preActivation, normalization: .none, fixup: true)
    let network = Network { ResNet(config, registry: &$0) }
    let p0 = "stages.0.blocks.0"
    #expect(spec(network, "\(p0).conv2.weight")?.initializer == .zeros)
    #expect(spec(network, "\(p0).conv1.weight")?.initializer == .normal(std: (2.0 / 18).squareRoot() * pow(3, -0.5)))
    #expect(spec(network, "\(p0).multiplier")?.shape == [1] && spec(network, "\(p0).multiplier")?.initializer == .constant(1))
    for n in ["\(p0).act1.input_bias", "\(p0).conv1.input_bias", "\(p0).act2.input_bias", "\(p0).conv2.input_bias",
              "\(p0).output_bias", "head.input_bias"] {
      #expect(spec(network, n)?.shape == [1] && spec(network, n)?.initializer == .zeros, "\(n)")
    }
    expectClose(Fixup.branchScale(branches: 16, layersPerBranch: 3), 0.5, rtol: 1e-12, "L^(-1/4)")
    var params: [Tensor<Double>] = network.initialParameters(seed: 4)
    let names = network.parameterSpecs.map(\.name)
    for b in 0..<3 {
      let i = names.firstIndex(of: "stages.0.blocks.\(b).conv2.weight")!
      #expect(params[i].scalars.allSatisfy { $0 == 0 }, "block \(b) last conv")
      #expect(params[names.firstIndex(of: "stages.0.blocks.\(b).multiplier")!].scalars == [1])
    }
    // The branches start at zero: the network is its skip path, head(GAP(ReLU(stem(x)))).
    let head = names.firstIndex(of: "head.weight")!
    #expect(params[head].scalars.allSatisfy { $0 == 0 })
    params[head] = randomTensor([2, 3], seed: 9)
    let x = Self.images
    let features = conv2d(Variable(constant: x), Variable(constant: params[0])).relu().globalAvgPool2D()
    let expected = Tensor<Double>.matmul(features.primal, params[head])
    expectClose(logits(network, params, x, labels: 2), expected, rtol: 1e-12, atol: 1e-14, "skip path")
    // …and with the last conv perturbed they do not.
    let c2 = names.firstIndex(of: "stages.0.blocks.1.conv2.weight")!
    params[c2] = randomTensor(params[c2].shape, seed: 10)
    #expect(logits(network, params, x, labels: 2).scalars != expected.scalars)
  }

  @Test func fixupResidualMLP() {
    let config = ResidualMLP.Configuration(inputs: 36, width: 4, hiddenWidth: 5, blocks: 2, classes: 3, fixup: true)
    let network = Network { ResidualMLP(config, registry: &$0) }
    checkNetwork("ResidualMLP Fixup", network, Self.imageBatch)
    #expect(spec(network, "blocks.1.fc2.weight")?.initializer == .zeros && spec(network, "blocks.1.fc2.bias") == nil)
    #expect(spec(network, "blocks.0.fc1.weight")?.initializer == .normal(std: (2.0 / 4).squareRoot() * pow(2, -0.5)))
    var params: [Tensor<Double>] = network.initialParameters(seed: 2)
    let names = network.parameterSpecs.map(\.name)
    let head = names.firstIndex(of: "head.weight")!
    params[head] = randomTensor([4, 3], seed: 3)
    // Branches at zero: logits = (x·W_in + b_in)·W_head + b_head.
    let x = Self.images.reshaped([2, 36])
    let h = Tensor<Double>.matmul(x, params[names.firstIndex(of: "input.weight")!]) + params[names.firstIndex(of: "input.bias")!]
    expectClose(logits(network, params, Self.images, labels: 2), Tensor.matmul(h, params[head]), rtol: 1e-12, atol: 1e-14,
                "skip path")
  }

  // MARK: DenseNet

  @Test(arguments: [NormalizationKind.batchNorm, .none])
  func denseNet(norm: NormalizationKind) {
    let config = DenseNet.Configuration(inputChannels: 1, classes: 3, growthRate: 2, blocks: [1, 2], normalization: norm)
    let network = Network { DenseNet(config, registry: &$0) }
    checkNetwork("DenseNet \(norm)", network, Self.imageBatch)
  }

  @Test func denseNetStructure() {
    let config = DenseNet.Configuration(inputChannels: 1, classes: 3, growthRate: 2, blocks: [2, 1])
    let network = Network { DenseNet(config, registry: &$0) }
    // Stem 4 channels, block 0: 4 → 6 → 8, transition → 4, block 1: 4 → 6.
    #expect(network.parameterSpecs.map(\.name) == [
      "stem.weight",
      "blocks.0.layers.0.bn1.scale", "blocks.0.layers.0.bn1.bias", "blocks.0.layers.0.conv1.weight",
      "blocks.0.layers.0.bn2.scale", "blocks.0.layers.0.bn2.bias", "blocks.0.layers.0.conv2.weight",
      "blocks.0.layers.1.bn1.scale", "blocks.0.layers.1.bn1.bias", "blocks.0.layers.1.conv1.weight",
      "blocks.0.layers.1.bn2.scale", "blocks.0.layers.1.bn2.bias", "blocks.0.layers.1.conv2.weight",
      "transitions.0.bn.scale", "transitions.0.bn.bias", "transitions.0.conv.weight",
      "blocks.1.layers.0.bn1.scale", "blocks.1.layers.0.bn1.bias", "blocks.1.layers.0.conv1.weight",
      "blocks.1.layers.0.bn2.scale", "blocks.1.layers.0.bn2.bias", "blocks.1.layers.0.conv2.weight",
      "final_bn.scale", "final_bn.bias", "head.weight", "head.bias"])
    #expect(spec(network, "stem.weight")?.shape == [3, 3, 1, 4])
    #expect(spec(network, "blocks.0.layers.1.conv1.weight")?.shape == [1, 1, 6, 8])
    #expect(spec(network, "blocks.0.layers.1.conv2.weight")?.shape == [3, 3, 8, 2])
    #expect(spec(network, "transitions.0.conv.weight")?.shape == [1, 1, 8, 4])
    #expect(spec(network, "final_bn.scale")?.shape == [6] && spec(network, "head.weight")?.shape == [6, 3])
    // The new channels are appended: the first 4 channels of block 0's output are the stem's.
    let params = randomParameters(network)
    let ctx = ForwardContext(parameters: params.map { Variable(constant: $0) }, buffers: network.initialBuffers(),
                             mode: .curvature)
    let model = network.model as! DenseNet
    let stem = model.stem(Variable(constant: Self.images), ctx)
    let layer = model.blocks[0][0]
    let grown = Variable.concatenated([stem, layer.conv2(layer.bn2(layer.conv1(layer.bn1(stem, ctx).relu(), ctx), ctx).relu(), ctx)],
                                      alongAxis: 3)
    expectClose(grown.primal.sliced(alongAxis: 3, 0..<4), stem.primal, rtol: 0, atol: 0, "dense connectivity")
  }

  // MARK: Residual MLP

  @Test(arguments: NormalizationKind.allCases)
  func residualMLP(norm: NormalizationKind) {
    let config = ResidualMLP.Configuration(inputs: 36, width: 4, hiddenWidth: 5, blocks: 2, classes: 3, normalization: norm)
    let network = Network { ResidualMLP(config, registry: &$0) }
    let batch = Batch<Double>(inputs: randomTensor([3, 6, 6, 1], seed: 72), labels: [2, 0, 1])
    checkNetwork("ResidualMLP \(norm)", network, batch)
    let names = network.parameterSpecs.map(\.name)
    let expected = ["input.weight", "input.bias"]
      + (0..<2).flatMap { i in
        (norm == .none ? [] : ["blocks.\(i).norm.scale", "blocks.\(i).norm.bias"])
          + ["blocks.\(i).fc1.weight", "blocks.\(i).fc1.bias", "blocks.\(i).fc2.weight", "blocks.\(i).fc2.bias"] }
      + (norm == .none ? [] : ["final_norm.scale", "final_norm.bias"]) + ["head.weight", "head.bias"]
    #expect(names == expected)
    #expect(spec(network, "blocks.1.fc1.weight")?.shape == [4, 5] && spec(network, "blocks.1.fc2.weight")?.shape == [5, 4])
  }

  // MARK: Transformers

  static func seqConfig(_ placement: TransformerLM.LayerNormPlacement) -> Seq2SeqTransformer.Configuration {
    Seq2SeqTransformer.Configuration(vocabulary: 5, context: 4, width: 4, encoderLayers: 1, decoderLayers: 1, heads: 2,
                                     mlpWidth: 6, layerNorm: placement)
  }

  @Test(arguments: TransformerLM.LayerNormPlacement.allCases)
  func seq2seq(placement: TransformerLM.LayerNormPlacement) {
    let network = Network { Seq2SeqTransformer(Self.seqConfig(placement), registry: &$0) }
    let x: Tensor<Double> = Seq2SeqTransformer.pack(source: [[1, 2, 3], [4, 0, 2]], target: [[0, 3, 1], [0, 4, 4]])
    #expect(x.shape == [2, 3, 2] && x[1, 0, 0] == 4 && x[1, 2, 1] == 4)
    checkNetwork("seq2seq \(placement)", network, Batch(inputs: x, labels: [3, 1, 2, 4, 4, 0]), std: 0.4, h: 3e-7)
  }

  @Test(arguments: TransformerLM.LayerNormPlacement.allCases)
  func seq2seqInformationFlow(placement: TransformerLM.LayerNormPlacement) {
    let network = Network { Seq2SeqTransformer(Self.seqConfig(placement), registry: &$0) }
    let params = randomParameters(network, seed: 5, std: 0.8)
    let base: Tensor<Double> = Seq2SeqTransformer.pack(source: [[1, 2, 3], [4, 0, 2]], target: [[0, 3, 1], [0, 4, 4]])
    let laterTarget: Tensor<Double> = Seq2SeqTransformer.pack(source: [[1, 2, 3], [4, 0, 2]], target: [[0, 3, 1], [0, 4, 2]])
    let lastSource: Tensor<Double> = Seq2SeqTransformer.pack(source: [[1, 2, 3], [4, 0, 1]], target: [[0, 3, 1], [0, 4, 4]])
    let a = logits(network, params, base, labels: 6)
    let b = logits(network, params, laterTarget, labels: 6)
    let c = logits(network, params, lastSource, labels: 6)
    #expect(a.shape == [6, 5])
    // Decoder causal in the target: changing target token 2 of example 1 changes only row 1·3 + 2.
    for row in [0, 1, 2, 3, 4] { for v in 0..<5 { #expect(a[row, v] == b[row, v], "row \(row) saw a later target") } }
    #expect((0..<5).contains { a[5, $0] != b[5, $0] })
    // It sees the whole source: the last source token changes every position of its example.
    for row in [3, 4, 5] { #expect((0..<5).contains { a[row, $0] != c[row, $0] }, "row \(row) blind to the source") }
    for row in [0, 1, 2] { for v in 0..<5 { #expect(a[row, v] == c[row, v]) } }
  }

  @Test func seq2seqParameterNames() {
    let network = Network { Seq2SeqTransformer(Self.seqConfig(.pre), registry: &$0) }
    let names = network.parameterSpecs.map(\.name)
    #expect(Array(names.prefix(4)) == ["source_embedding.weight", "target_embedding.weight", "encoder_position.weight",
                                        "decoder_position.weight"])
    for n in ["encoder.0.ln1.scale", "encoder.0.attention.query.weight", "encoder.0.mlp.fc2.bias", "encoder_norm.bias",
              "decoder.0.ln3.bias", "decoder.0.self_attention.key.weight", "decoder.0.cross_attention.value.bias",
              "decoder.0.mlp.fc1.weight", "decoder_norm.scale"] {
      #expect(names.contains(n), "\(n)")
    }
    #expect(spec(network, "decoder.0.cross_attention.output.weight")?.shape == [4, 4])
    #expect(spec(network, "decoder_position.weight")?.shape == [4, 4])
    #expect(names.suffix(2) == ["head.weight", "head.bias"] && spec(network, "head.weight")?.shape == [4, 5])
    let none = Network { Seq2SeqTransformer(Self.seqConfig(.none), registry: &$0) }
    #expect(!none.parameterSpecs.contains { $0.name.contains("ln") || $0.name.contains("norm") })
  }

  @Test func crossAttention() {
    let h = LayerHarness { MultiHeadAttention(width: 4, heads: 2, causal: false, name: "attn", registry: &$0) }
    let x: Tensor<Double> = randomTensor([2, 3, 4], seed: 61), m: Tensor<Double> = randomTensor([2, 5, 4], seed: 62)
    let f = { (v: [Variable<Double>]) -> Variable<Double> in
      let ctx = ForwardContext(parameters: Array(v.dropFirst(2)), buffers: [], mode: .curvature)
      return scalarized((h.network.model as! MultiHeadAttention)(v[0], memory: v[1], ctx))
    }
    checkGradient("cross-attention", at: [x, m] + h.parameters, f)
    checkHVP("cross-attention", at: [x, m] + h.parameters, f)
    // Non-causal self-attention: the last position changes the first output.
    var x2 = x
    x2[0, 2, 0] += 1
    #expect(h.output(x)[0, 0, 0] != h.output(x2)[0, 0, 0])
  }
}
