/// Seeded data augmentation for NHWC image batches.
public enum Augmentation {
  /// Random horizontal flip (probability ½) and random crop with zero padding `pad` (the
  /// standard CIFAR recipe: pad 4, crop back to the original size), per example.
  public static func flipAndCrop<S: TensorScalar>(_ x: Tensor<S>, pad: Int, rng: inout SplitMix64) -> Tensor<S> {
    precondition(x.rank == 4, "flipAndCrop expects NHWC images, got \(x.shape)")
    precondition(pad >= 0, "padding must be non-negative")
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    var plans: [(flip: Bool, dy: Int, dx: Int)] = []
    for _ in 0..<n {
      let flip = rng.next() & 1 == 1
      let dy = Int(rng.next() % UInt64(2 * pad + 1)) - pad
      let dx = Int(rng.next() % UInt64(2 * pad + 1)) - pad
      plans.append((flip, dy, dx))
    }
    return Tensor(shape: x.shape) { out in
      x.withUnsafeBufferPointer { src in
        for (i, p) in plans.enumerated() {
          for r in 0..<h {
            for col in 0..<w {
              // Output pixel (r, col) reads the shifted, possibly mirrored source pixel.
              let sr = r + p.dy
              let scol0 = col + p.dx
              let scol = p.flip ? w - 1 - scol0 : scol0
              let o = ((i * h + r) * w + col) * c
              if sr < 0 || sr >= h || scol0 < 0 || scol0 >= w {
                for k in 0..<c { out[o + k] = 0 }
              } else {
                let s = ((i * h + sr) * w + scol) * c
                for k in 0..<c { out[o + k] = src[s + k] }
              }
            }
          }
        }
      }
    }
  }

  /// Mixup (Zhang et al. 2018): x̃ = λ·x + (1−λ)·x[π], with λ ~ Beta(α, α) per batch and π a
  /// random permutation; returns the mixed inputs, the permutation and λ. The loss is then
  /// λ·CE(z, y) + (1−λ)·CE(z, y[π]), i.e. cross-entropy with soft targets.
  public static func mixup<S: TensorScalar>(_ x: Tensor<S>, alpha: Double, rng: inout SplitMix64)
    -> (inputs: Tensor<S>, permutation: [Int], lambda: Double)
  {
    precondition(alpha > 0, "mixup α must be positive")
    let n = x.shape[0]
    let lambda = beta(alpha, alpha, rng: &rng)
    var perm = Array(0..<n)
    for i in stride(from: n - 1, to: 0, by: -1) { perm.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
    let stride = x.count / max(n, 1)
    let l = S(lambda)
    let mixed = Tensor<S>(shape: x.shape) { out in
      x.withUnsafeBufferPointer { src in
        for i in 0..<n {
          for k in 0..<stride { out[i * stride + k] = l * src[i * stride + k] + (1 - l) * src[perm[i] * stride + k] }
        }
      }
    }
    return (mixed, perm, lambda)
  }

  /// Beta(a, b) from two Gamma draws (Marsaglia–Tsang for shape ≥ 1, boosted below 1).
  static func beta(_ a: Double, _ b: Double, rng: inout SplitMix64) -> Double {
    let x = gamma(a, rng: &rng), y = gamma(b, rng: &rng)
    return x / (x + y)
  }

  static func gamma(_ shape: Double, rng: inout SplitMix64) -> Double {
    if shape < 1 {
      let u = max(rng.nextUniform(), 1e-300)
      return gamma(shape + 1, rng: &rng) * Foundation.pow(u, 1 / shape)
    }
    let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
    while true {
      var x = 0.0, v = 0.0
      repeat { x = rng.nextNormal(); v = 1 + c * x } while v <= 0
      v = v * v * v
      let u = rng.nextUniform()
      if u < 1 - 0.0331 * x * x * x * x { return d * v }
      if Foundation.log(max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + Foundation.log(v)) { return d * v }
    }
  }
}

import Foundation
