"""What the peer programs share: the timing rule, the Lanczos loop, the row of measurements and the
command line, as `repro bench` does them."""
import argparse
import json
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


def row(name, parameters, gradient, sgd_step, hvp, lanczos20, repeats):
    """One workload's medians (ms) as `repro bench --json` names them: each argument a callable."""
    return {
        "workload": name,
        "parameters": int(parameters),
        "gradientMs": median_ms(gradient, repeats),
        "sgdMomentumStepMs": median_ms(sgd_step, repeats),
        "hvpMs": median_ms(hvp, repeats),
        "lanczos20Ms": median_ms(lanczos20, max(3, repeats // 5)),
    }


def main(peer, version, measure, **extra):
    """--repeats and --only, then one JSON object {"peer", "version", **extra, "rows"} on stdout."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--only", default="W1,W2,W3")
    a = ap.parse_args()
    rows = [measure(w, a.repeats) for w in a.only.split(",")]
    print(json.dumps({"peer": peer, "version": version, **extra, "rows": rows}))
