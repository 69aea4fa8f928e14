import Foundation
import Testing
@testable import ML

@Suite("Tensor kernels")
struct TensorTests {
  @Test func tanhAccuracy() {
    // Both precisions against libm's tanh in Double, across the whole range.
    let xs = stride(from: -12.0, through: 12.0, by: 0.0037).map { $0 } + [0, 1e-8, -1e-6, 0.05, 0.07, 20, -30]
    let f = Tensor<Float>(shape: [xs.count], scalars: xs.map(Float.init)).applying(.tanh).scalars
    let d = Tensor<Double>(shape: [xs.count], scalars: xs).applying(.tanh).scalars
    for (i, x) in xs.enumerated() {
      let exact = Foundation.tanh(Double(Float(x)))
      #expect(abs(Double(f[i]) - exact) <= 3e-7 * max(abs(exact), 1e-3), "Float tanh(\(x)) = \(f[i]), exact \(exact)")
      #expect(abs(d[i] - Foundation.tanh(x)) <= 4e-16 * max(abs(Foundation.tanh(x)), 1e-300), "Double tanh(\(x))")
    }
  }

  @Test func broadcastingShapes() {
    let a = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    #expect((a + Tensor(shape: [3], scalars: [10, 20, 30])).scalars == [11, 22, 33, 14, 25, 36])
    #expect((a * Tensor(shape: [2, 1], scalars: [2, 3])).scalars == [2, 4, 6, 12, 15, 18])
    #expect((Tensor(shape: [2, 1], scalars: [1, 2]) + Tensor<Double>(shape: [1, 3], scalars: [10, 20, 30])).scalars == [11, 21, 31, 12, 22, 32])
    #expect(a.sum(toShape: [3]).scalars == [5, 7, 9])
    #expect(a.sum(toShape: [2, 1]).scalars == [6, 15])
    #expect(a.sum().scalars == [21])
    #expect(a.transposed([1, 0]).scalars == [1, 4, 2, 5, 3, 6])
  }

  @Test func matmulAgainstNaiveProduct() {
    let a: Tensor<Double> = randomTensor([2, 3, 4], seed: 1)
    let b: Tensor<Double> = randomTensor([4, 5], seed: 2)
    let c = Tensor.matmul(a, b)
    #expect(c.shape == [2, 3, 5])
    for i in 0..<2 { for r in 0..<3 { for col in 0..<5 {
      var s = 0.0
      for k in 0..<4 { s += a[i, r, k] * b[k, col] }
      expectClose(c[i, r, col], s, rtol: 1e-12)
    } } }
    var acc = c
    Tensor.matmul(a, b, addingTo: &acc)
    expectClose(acc, c * 2, rtol: 1e-12, "addMatmul")
  }

  @Test func copyOnWrite() {
    let a = Tensor<Float>(shape: [2], scalars: [1, 2])
    var b = a
    b[0] = 5
    #expect(a.scalars == [1, 2] && b.scalars == [5, 2])
  }
}

/// The allocation-free fast paths of `sum(toShape:)` (a sum over leading axes) and of binary
/// ops on equal shapes give exactly the plan path's numbers: rows added in order from zero, and
/// one element-wise pass.
@Suite struct SmallTensorFastPathTests {
  @Test func leadingAxisSumsAddRowsInOrder() {
    for (shape, target) in [([7, 33], [33]), ([7, 33], [1, 33]), ([7, 33], []), ([7, 33], [1]), ([3, 5, 8], [8]),
                            ([3, 5, 8], [5, 8]), ([3, 5, 8], [1, 5, 8]), ([4, 1], [1])] {
      let x: Tensor<Float> = randomTensor(shape, seed: 51)
      let width = target.reduce(1, *)
      var expected = [Float](repeating: 0, count: width)
      if width == 1 {
        var s: Float = 0
        for v in x.scalars { s += v }
        expected[0] = 0 + s
      } else {
        for r in 0..<(x.count / width) { for i in 0..<width { expected[i] += x.scalars[r * width + i] } }
      }
      let got = x.sum(toShape: target)
      #expect(got.shape == target)
      #expect(got.scalars == expected, "\(shape) → \(target)")
    }
    // Not a leading-axis sum: the plan path (row sums).
    let x: Tensor<Float> = randomTensor([4, 6], seed: 52)
    #expect(x.sum(toShape: [4, 1]).scalars == (0..<4).map { r in x.scalars[(r * 6)..<(r * 6 + 6)].reduce(0, +) })
  }

  @Test func equalShapeBinaryOpsAreElementwise() {
    let a: Tensor<Float> = randomTensor([5, 9], seed: 53), b: Tensor<Float> = randomTensor([5, 9], seed: 54)
    #expect((a + b).scalars == zip(a.scalars, b.scalars).map { $0 + $1 })
    #expect((a * b).scalars == zip(a.scalars, b.scalars).map { $0 * $1 })
    #expect((a - b).scalars == zip(a.scalars, b.scalars).map { $0 - $1 })
  }

  /// A second operand repeated along the first's leading axes (a bias on every row, suffixes of
  /// rank 1 and 2) goes row by row; the other order and other broadcasts go through the plan;
  /// each gives the element-wise numbers.
  @Test func rowBroadcastBinaryOpsAreElementwise() {
    let a: Tensor<Float> = randomTensor([5, 9], seed: 53), a3: Tensor<Float> = randomTensor([2, 5, 9], seed: 56)
    let row: Tensor<Float> = randomTensor([9], seed: 55), column: Tensor<Float> = randomTensor([5, 1], seed: 57)
    #expect((a + row).scalars == a.scalars.enumerated().map { $0.element + row.scalars[$0.offset % 9] })
    #expect((a - row).scalars == a.scalars.enumerated().map { $0.element - row.scalars[$0.offset % 9] })
    #expect((row - a).scalars == a.scalars.enumerated().map { row.scalars[$0.offset % 9] - $0.element })
    #expect((a3 * a).scalars == a3.scalars.enumerated().map { $0.element * a.scalars[$0.offset % 45] })
    #expect((a3 + row).scalars == a3.scalars.enumerated().map { $0.element + row.scalars[$0.offset % 9] })
    #expect((a + column).scalars == a.scalars.enumerated().map { $0.element + column.scalars[$0.offset / 9] })
    #expect((a + row).shape == [5, 9] && (row - a).shape == [5, 9] && (a3 * a).shape == [2, 5, 9])
    #expect((Tensor<Float>(zeros: [0, 9]) + row).shape == [0, 9] && (Tensor<Float>(zeros: [0]) * Tensor<Float>(zeros: [0])).count == 0)
    #expect((Tensor<Float>(scalar: 2) * Tensor<Float>(scalar: 3)).scalars == [6])
  }
}
