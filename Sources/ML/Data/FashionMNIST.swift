import Foundation

/// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 60 000 training and 10 000 test images of
/// 28×28 grey levels in 10 classes, MIT licence, shipped by Debian's `dataset-fashion-mnist`.
public enum FashionMNIST {
  public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
  public static let installHint = "install it with: apt-get install dataset-fashion-mnist"
  public static let classes = 10

  public enum Split: String, Sendable { case train, test }

  /// Images as NHWC [N, side, side, 1] scaled to [0, 1] then standardized with the training
  /// set's mean and standard deviation (0.2860, 0.3530); `side` 28, or 14 for 2×2 average
  /// down-sampling. `limit` keeps a class-balanced subset of that many examples (the first
  /// ⌈limit/10⌉ of each class, in file order).
  public static func load<S: TensorScalar>(
    _ split: Split, directory: String = defaultDirectory, limit: Int? = nil, side: Int = 28
  ) throws -> Dataset<S> {
    precondition(side == 28 || side == 14, "Fashion-MNIST side must be 28 or 14")
    let prefix = split == .train ? "train" : "t10k"
    let imagesPath = "\(directory)/\(prefix)-images-idx3-ubyte.gz"
    let labelsPath = "\(directory)/\(prefix)-labels-idx1-ubyte.gz"
    let images = try IDX.read(path: imagesPath, hint: installHint)
    let labels = try IDX.read(path: labelsPath, hint: installHint)
    guard images.shape.count == 3, images.shape[1] == 28, images.shape[2] == 28 else {
      throw DataError.corrupt(path: imagesPath, reason: "shape \(images.shape), expected [N, 28, 28]")
    }
    guard labels.shape == [images.shape[0]] else {
      throw DataError.corrupt(path: labelsPath, reason: "\(labels.shape) labels for \(images.shape[0]) images")
    }
    if let bad = labels.bytes.first(where: { Int($0) >= classes }) {
      throw DataError.corrupt(path: labelsPath, reason: "label \(bad) outside 0..<10")
    }
    let indices = balancedSubset(labels: labels.bytes.map(Int.init), limit: limit)
    let mean = 0.2860, std = 0.3530
    let pixels = side * side
    let factor = 28 / side
    let x = Tensor<S>(shape: [indices.count, side, side, 1]) { out in
      images.bytes.withUnsafeBufferPointer { src in
        for (row, i) in indices.enumerated() {
          let img = src.baseAddress! + i * 784
          for r in 0..<side {
            for c in 0..<side {
              var sum = 0
              for dr in 0..<factor { for dc in 0..<factor { sum += Int(img[(r * factor + dr) * 28 + c * factor + dc]) } }
              let v = Double(sum) / Double(factor * factor) / 255
              out[row * pixels + r * side + c] = S((v - mean) / std)
            }
          }
        }
      }
    }
    return Dataset(inputs: x, labels: indices.map { Int(labels.bytes[$0]) }, classes: classes)
  }

  /// The first ⌈limit/classes⌉ examples of each class, in file order (all when nil).
  static func balancedSubset(labels: [Int], limit: Int?) -> [Int] {
    guard let limit, limit < labels.count else { return Array(labels.indices) }
    let perClass = (limit + classes - 1) / classes
    var taken = [Int](repeating: 0, count: classes)
    var out: [Int] = []
    for (i, y) in labels.enumerated() where taken[y] < perClass && out.count < limit {
      taken[y] += 1
      out.append(i)
    }
    return out
  }
}
