/// The small convolutional network of benchmark W2, on [N, 28, 28, 1] images with SAME padding:
/// conv 3×3 → 16, ReLU → conv 3×3 → 32 stride 2, ReLU → conv 3×3 → 64 stride 2, ReLU →
/// global average pool → dense → classes.
///
/// Checkpoint names: `conv1.weight` [3,3,C,16], `conv1.bias` [16], `conv2.weight` [3,3,16,32],
/// `conv2.bias` [32], `conv3.weight` [3,3,32,64], `conv3.bias` [64], `dense.weight` [64, classes],
/// `dense.bias` [classes].
public struct SmallCNN: Layer {
  let conv1: Conv2D, conv2: Conv2D, conv3: Conv2D
  let dense: Dense

  /// `channels` are the three convolutions' widths: (16, 32, 64) for W2; tests shrink them.
  public init(inputChannels: Int = 1, classes: Int = 10, channels: (Int, Int, Int) = (16, 32, 64),
              registry: inout ParameterRegistry) {
    precondition(inputChannels > 0 && classes > 0 && channels.0 > 0 && channels.1 > 0 && channels.2 > 0,
                 "SmallCNN sizes must be positive")
    conv1 = Conv2D(inputChannels, channels.0, kernel: (3, 3), name: "conv1", registry: &registry)
    conv2 = Conv2D(channels.0, channels.1, kernel: (3, 3), stride: (2, 2), name: "conv2", registry: &registry)
    conv3 = Conv2D(channels.1, channels.2, kernel: (3, 3), stride: (2, 2), name: "conv3", registry: &registry)
    dense = Dense(channels.2, classes, name: "dense", registry: &registry)
  }

  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    precondition(x.rank == 4, "SmallCNN expects NHWC images, got \(x.shape)")
    var h = conv1(x, ctx).relu()
    h = conv2(h, ctx).relu()
    h = conv3(h, ctx).relu()
    return dense(h.globalAvgPool2D(), ctx)
  }
}
