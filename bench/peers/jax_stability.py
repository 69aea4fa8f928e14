"""JAX peer of one stability sweep of `repro` (issue 19: the experiment-level comparison).

The same program as `repro fig2 --small --set models=resmlp-none ...` for each (η, warmup, seed):
  data    Fashion-MNIST, all 60 000 training and 10 000 test images, 2x2 average-pooled to 14x14,
          standardized with (0.2860, 0.3530), flattened to 196 features;
  model   the residual MLP without normalization, tiny size: 196 -> 32, four blocks
          h + relu(h W1 + b1) W2 + b2 (32 -> 64 -> 32), head 32 -> 10 (23 402 parameters),
          LeCun-normal weights, zero biases; softmax cross-entropy, mean over the batch;
  train   1 000 steps of batch 128 from per-epoch shuffles, SGD with heavy-ball momentum 0.9
          (v = 0.9 v + g; w -= eta v), linear warmup to the peak over `warmup` steps then cosine
          decay to 0 at the last step; the loss and the global gradient norm of every step; a run
          stops at a non-finite loss or gradient, or a loss above 1e4 (diverged);
  measure λ1 of the training loss on the first 1 024 training images at steps 0, 250 and 500:
          Lanczos with Float64 vectors and full reorthogonalization on the jitted float32
          forward-over-reverse HVP, stopping once the residual estimate is within 1e-3 of λ1
          (at most 20 steps), then the explicit residual checked, else again with a ten times
          tighter estimate and up to 40 steps; parameter snapshots every 10 steps to 80, then
          every 40, and for a run that diverges λ1 at its newest finite snapshot after the last
          scheduled measurement ("λ1 before failure");
  evaluate test loss and accuracy on the 10 000 test images after the last step.
What it leaves out of `repro`'s run: the store, the figure, the collapse rule's extra
measurement (runs that end near the chance loss without diverging; none at these settings).

Prints one JSON object: {"peer": "jax", "version", "wallSeconds", "loadSeconds", "compileSeconds",
"runs": [...]}
with each run's status, λ1 measurements and test accuracy, so the numbers can be set beside
repro's (same distributions, not the same random draws).

    python bench/peers/jax_stability.py --etas 0.01,0.03,0.1,0.3,1,3 --warmups 0,200 --seeds 0
"""
import argparse
import gzip
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

MEAN, STD = 0.2860, 0.3530


def load(split, directory):
    prefix = "train" if split == "train" else "t10k"
    with gzip.open(f"{directory}/{prefix}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(f"{directory}/{prefix}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int32)
    x = images.reshape(-1, 14, 2, 14, 2).sum(axis=(2, 4), dtype=np.float32) / (4 * 255)
    return ((x - MEAN) / STD).astype(np.float32).reshape(-1, 196), labels


def init(key):
    def dense(k, fan_in, fan_out):
        return jax.random.normal(k, (fan_in, fan_out), jnp.float32) / np.sqrt(fan_in), jnp.zeros(fan_out, jnp.float32)

    keys = jax.random.split(key, 10)
    blocks = [dense(keys[1 + 2 * i], 32, 64) + dense(keys[2 + 2 * i], 64, 32) for i in range(4)]
    return {"input": dense(keys[0], 196, 32), "blocks": blocks, "head": dense(keys[9], 32, 10)}


def forward(p, x):
    h = x @ p["input"][0] + p["input"][1]
    for w1, b1, w2, b2 in p["blocks"]:
        h = h + jax.nn.relu(h @ w1 + b1) @ w2 + b2
    return h @ p["head"][0] + p["head"][1]


def loss_fn(p, x, y):
    logp = jax.nn.log_softmax(forward(p, x))
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


@jax.jit
def train_step(p, v, x, y, eta):
    loss, g = jax.value_and_grad(loss_fn)(p, x, y)
    norm = jnp.sqrt(sum(jnp.sum(gi * gi) for gi in jax.tree_util.tree_leaves(g)))
    v = jax.tree_util.tree_map(lambda vi, gi: 0.9 * vi + gi, v, g)
    p = jax.tree_util.tree_map(lambda wi, vi: wi - eta * vi, p, v)
    return p, v, loss, norm


@jax.jit
def evaluate_chunk(p, x, y):
    logits = forward(p, x)
    logp = jax.nn.log_softmax(logits)
    return -jnp.sum(jnp.take_along_axis(logp, y[:, None], axis=1)), jnp.sum(jnp.argmax(logits, 1) == y)


def schedule(peak, warmup, total):
    def eta(t):
        if t < warmup:
            return peak * (t + 1) / warmup
        progress = min((t - warmup) / max(total - warmup, 1), 1)
        return peak * 0.5 * (1 + np.cos(np.pi * progress))
    return eta


def make_hvp(unravel):
    @jax.jit
    def hvp(p, x, y, v):
        tangent = jax.jvp(jax.grad(lambda q: loss_fn(q, x, y)), (p,), (unravel(v),))[1]
        return ravel_pytree(tangent)[0]
    return hvp


def lanczos_top(op, n, steps, tolerance, seed):
    """Top Ritz value and its explicit residual; stops once |β·s_last| <= tolerance·|θ1|."""
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(n)
    basis = [q / np.linalg.norm(q)]
    alpha, beta = [], []
    last = 0.0
    for j in range(min(steps, n)):
        w = op(basis[-1])
        if not np.all(np.isfinite(w)):
            return None
        a = basis[-1] @ w
        alpha.append(a)
        w -= a * basis[-1]
        if j > 0:
            w -= beta[-1] * basis[-2]
        B = np.array(basis)
        for _ in range(2):
            before = w @ w
            w -= B.T @ (B @ w)
            if w @ w >= before / 2:
                break
        last = np.linalg.norm(w)
        if j == steps - 1:
            break
        if j >= 2:
            theta, s = np.linalg.eigh(np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1))
            if abs(last * s[-1, -1]) <= tolerance * abs(theta[-1]):
                break
        if last <= 1e-10 * max(abs(a), 1):
            break
        beta.append(last)
        basis.append(w / last)
    k = len(alpha)
    theta, s = np.linalg.eigh(np.diag(alpha) + np.diag(beta[:k - 1], 1) + np.diag(beta[:k - 1], -1))
    x = np.array(basis[:k]).T @ s[:, -1]
    x /= np.linalg.norm(x)
    ax = op(x)
    if not np.all(np.isfinite(ax)):
        return None
    return float(theta[-1]), float(np.linalg.norm(ax - theta[-1] * x)), k


def lambda1(hvp, p, xm, ym, n, seed, tolerance=1e-3):
    def op(v):
        return np.asarray(hvp(p, xm, ym, jnp.asarray(v, jnp.float32)), np.float64)
    r = lanczos_top(op, n, 20, tolerance, seed)
    if r is not None and r[1] > tolerance * abs(r[0]):
        r = lanczos_top(op, n, 40, tolerance / 10, seed)
    return r


def run(eta, warmup, seed, data, hvp, n, steps=1000, batch=128, measure_at=(0, 250, 500)):
    (xtr, ytr), (xte, yte) = data
    params = init(jax.random.PRNGKey(seed))
    velocity = jax.tree_util.tree_map(jnp.zeros_like, params)
    xm, ym = jnp.asarray(xtr[:1024]), jnp.asarray(ytr[:1024])
    snapshot_steps = set(range(0, 80, 10)) | set(range(80, steps, 40))
    lr = schedule(eta, warmup, steps)
    order_rng = np.random.default_rng(seed + 1)
    order, position = None, 0
    measurements, snapshots, losses = [], [], []
    status, failure = "trained", None
    for t in range(steps):
        if t in measure_at:
            m = lambda1(hvp, params, xm, ym, n, seed + 3)
            if m is None:
                status, failure = "diverged", t
                break
            measurements.append({"step": t, "lambda1": m[0], "residual": m[1], "lanczosSteps": m[2]})
        elif t in snapshot_steps:
            snapshots.append((t, params))
        if order is None or position + batch > len(ytr):
            order, position = order_rng.permutation(len(ytr)), 0
        idx = order[position:position + batch]
        position += batch
        new_params, new_velocity, loss, norm = train_step(params, velocity, xtr[idx], ytr[idx], lr(t))
        loss, norm = float(loss), float(norm)
        losses.append(loss)
        if not (np.isfinite(loss) and np.isfinite(norm)) or loss > 1e4:
            status, failure = "diverged", t
            break
        params, velocity = new_params, new_velocity
    before = None
    if status == "diverged":
        last_scheduled = max((m["step"] for m in measurements), default=-1)
        for s, p in reversed(snapshots):
            if last_scheduled < s < failure:
                m = lambda1(hvp, p, xm, ym, n, seed + 3)
                if m is not None:
                    before = {"step": s, "lambda1": m[0], "residual": m[1]}
                    break
    test = None
    if status == "trained":
        total_loss = correct = 0.0
        for k in range(0, len(yte), 1000):
            l, c = evaluate_chunk(params, xte[k:k + 1000], yte[k:k + 1000])
            total_loss, correct = total_loss + float(l), correct + float(c)
        test = {"loss": total_loss / len(yte), "accuracy": correct / len(yte)}
    return {"eta": eta, "warmup": warmup, "seed": seed, "status": status, "failureStep": failure,
            "measurements": measurements, "lambda1BeforeFailure": before, "test": test,
            "finalLoss": float(np.mean(losses[-100:])) if losses else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etas", default="0.01,0.03,0.1,0.3,1,3")
    ap.add_argument("--warmups", default="0,200")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    a = ap.parse_args()
    start = time.perf_counter()
    data = (load("train", a.data_dir), load("test", a.data_dir))
    load_seconds = time.perf_counter() - start
    # Compile every function once (the eager initializer's ops too) before the runs, so the
    # report separates JAX's compile time from the sweep's (both are in the wall time).
    t0 = time.perf_counter()
    flat, unravel = ravel_pytree(init(jax.random.PRNGKey(0)))
    hvp = make_hvp(unravel)
    p0 = init(jax.random.PRNGKey(0))
    jax.block_until_ready(train_step(p0, p0, data[0][0][:128], data[0][1][:128], 0.0))
    jax.block_until_ready(hvp(p0, jnp.asarray(data[0][0][:1024]), jnp.asarray(data[0][1][:1024]), flat))
    jax.block_until_ready(evaluate_chunk(p0, data[1][0][:1000], data[1][1][:1000]))
    compile_seconds = time.perf_counter() - t0
    runs = []
    for seed in map(int, a.seeds.split(",")):
        for eta in map(float, a.etas.split(",")):
            for warmup in map(int, a.warmups.split(",")):
                t = time.perf_counter()
                r = run(eta, warmup, seed, data, hvp, flat.size)
                r["seconds"] = time.perf_counter() - t
                runs.append(r)
    print(json.dumps({"peer": "jax", "version": jax.__version__, "parameters": int(flat.size),
                      "wallSeconds": time.perf_counter() - start, "loadSeconds": load_seconds,
                      "compileSeconds": compile_seconds, "runs": runs}))


if __name__ == "__main__":
    main()
