import Synchronization

extension Network {
  /// The Hessian of the training loss on a fixed measurement batch, as a Float64 operator. The
  /// HVP itself runs in the parameters' precision (Float32 for training runs); the Lanczos
  /// vectors stay Float64. BatchNorm uses batch statistics and dropout is off
  /// (`ForwardMode.curvature`). The first application keeps the products' primals, which
  /// every later one replays (`PrimalCache`): they do not depend on the vector.
  public func hessianOperator<S>(
    parameters: [Tensor<S>], buffers: [Tensor<S>], batch: Batch<S>, cachingPrimals: Bool = true
  ) -> SymmetricOperator {
    let shapes = parameters.map(\.shape)
    let n = shapes.reduce(0) { $0 + $1.reduce(1, *) }
    let network = self
    let caches = cachingPrimals ? PrimalCaches<S>() : nil
    // One application at a time: the caches are replayed in order.
    let serial = Mutex(())
    return SymmetricOperator(dimension: n) { v in
      serial.withLock { _ in
        let direction: [Tensor<S>] = FlatVector.unflatten(v, shapes: shapes)
        let r = network.hessianVectorProduct(parameters: parameters, buffers: buffers, batch: batch, direction: direction,
                                             gradient: false, primalCaches: caches)
        return FlatVector.flatten(r.hvp)
      }
    }
  }

  /// The preconditioned Hessian D^-1/2·H·D^-1/2 for Adam's D = √v̂ + ε: its top eigenvalue is
  /// the "preconditioned sharpness" that equilibrates at 38/η for β1 = 0.9 (Cohen et al. 2022).
  public func preconditionedHessianOperator<S>(
    parameters: [Tensor<S>], buffers: [Tensor<S>], batch: Batch<S>, preconditioner d: [Tensor<S>]
  ) -> SymmetricOperator {
    let h = hessianOperator(parameters: parameters, buffers: buffers, batch: batch)
    let invSqrtD = FlatVector.flatten(d).map { 1 / $0.squareRoot() }
    precondition(invSqrtD.count == h.dimension, "preconditioner has the wrong size")
    return SymmetricOperator(dimension: h.dimension) { v in
      var u = v
      for i in u.indices { u[i] *= invSqrtD[i] }
      var y = h(u)
      for i in y.indices { y[i] *= invSqrtD[i] }
      return y
    }
  }
}
