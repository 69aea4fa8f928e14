"""What the peer programs share: the timing rule and the Lanczos loop, as `repro bench` does them."""
import time

import numpy as np


def median_ms(f, repeats):
    """The median wall time of `repeats` calls of f in milliseconds, after two warm-up calls."""
    f()
    f()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


def lanczos(hvp, n, rng, steps=20):
    """`steps` Lanczos steps on the operator `hvp` (float64 vector in, float64 vector out) from a
    random unit vector, Float64 vectors, full reorthogonalization (twice), as `repro`'s Lanczos."""
    q = rng.standard_normal(n)
    q /= np.linalg.norm(q)
    basis = [q]
    for _ in range(steps):
        w = hvp(basis[-1])
        for b in basis:
            w -= (b @ w) * b
        for b in basis:
            w -= (b @ w) * b
        norm = np.linalg.norm(w)
        if norm == 0:
            break
        basis.append(w / norm)
    return basis
