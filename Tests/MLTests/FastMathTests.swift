import Foundation
import Testing
@testable import ML

/// The Float fast paths of exp and erf against Double libm.
@Suite("Fast math")
struct FastMathTests {
  @Test func fastExpFloat() {
    var worst = 0.0
    for i in 0...20000 {
      let x = -80 + Double(i) * 0.008
      let y = Double(Float.fastExp(Float(x))), e = Foundation.exp(Double(Float(x)))
      worst = max(worst, abs(y - e) / e)
    }
    #expect(worst < 3e-7, "fastExp relative error \(worst)")
    #expect(Float.fastExp(-1e9) == 0 && Float.fastExp(-100) == 0)
    #expect(Float.fastExp(100) == .infinity)
    #expect(Float.fastExp(0) == 1)
  }

  @Test func fastErfFloat() {
    var worst = 0.0
    for i in 0...20000 {
      let x = -6 + Double(i) * 0.0006
      worst = max(worst, abs(Double(Float.fastErf(Float(x))) - Foundation.erf(Double(Float(x)))))
    }
    #expect(worst < 1e-6, "fastErf absolute error \(worst)")
  }
}
