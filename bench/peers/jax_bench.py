"""JAX peer of `repro bench` (W1-W3): the same shapes, float32, LeCun-normal weights and zero
biases, random inputs, softmax cross-entropy (mean over the batch), and the same measurements:
the gradient (jit of value_and_grad), one SGD heavy-ball step (jit, momentum 0.9), the HVP by
forward-over-reverse (jax.jvp of jax.grad, jit, parameters as an argument), and 20 Lanczos steps
(the jitted float32 HVP with the parameters closed over, so that XLA folds the primals at compile
time as `repro` reuses them; Float64 vectors with full reorthogonalization in numpy, as `repro`'s
Lanczos). Prints one JSON object: {"peer": "jax", "version": ..., "rows": [{"workload",
"gradientMs", "sgdMomentumStepMs", "hvpMs", "lanczos20Ms"}]} with medians over --repeats timed runs
after two warm-up calls.

    python bench/peers/jax_bench.py --repeats 20 --only W1,W2,W3
"""
import jax
import jax.flatten_util  # noqa: F401  (registers jax.flatten_util)
import jax.numpy as jnp
import numpy as np
from common import lanczos, main, row

jax.config.update("jax_enable_x64", False)


def lecun(key, shape, fan_in):
    return jax.random.normal(key, shape, jnp.float32) / np.sqrt(fan_in)


def cross_entropy(logits, labels):
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))


# W1: MLP 784-512-512-10, tanh, batch 128.
def w1(key):
    widths = [784, 512, 512, 10]
    keys = jax.random.split(key, len(widths))
    params = []
    for i in range(len(widths) - 1):
        params.append((lecun(keys[i], (widths[i], widths[i + 1]), widths[i]), jnp.zeros(widths[i + 1], jnp.float32)))
    x = jax.random.normal(keys[-1], (128, 784), jnp.float32)
    y = jax.random.randint(keys[-1], (128,), 0, 10)

    def loss(p):
        h = x
        for i, (w, b) in enumerate(p):
            h = h @ w + b
            if i < len(p) - 1:
                h = jnp.tanh(h)
        return cross_entropy(h, y)

    return params, loss


# W2: CNN on 28x28x1: conv 3x3 16, ReLU, conv 3x3 32 stride 2, ReLU, conv 3x3 64 stride 2, ReLU,
# global average pool, dense 10; SAME padding, NHWC, HWIO kernels, batch 128.
def w2(key):
    keys = jax.random.split(key, 6)
    chans = [(1, 16, 1), (16, 32, 2), (32, 64, 2)]
    params = [(lecun(keys[i], (3, 3, cin, cout), 9 * cin), jnp.zeros(cout, jnp.float32)) for i, (cin, cout, _) in enumerate(chans)]
    params.append((lecun(keys[3], (64, 10), 64), jnp.zeros(10, jnp.float32)))
    x = jax.random.normal(keys[4], (128, 28, 28, 1), jnp.float32)
    y = jax.random.randint(keys[5], (128,), 0, 10)

    def loss(p):
        h = x
        for (w, b), (_, _, s) in zip(p[:3], chans):
            h = jax.lax.conv_general_dilated(h, w, (s, s), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")) + b
            h = jax.nn.relu(h)
        h = jnp.mean(h, axis=(1, 2))
        w, b = p[3]
        return cross_entropy(h @ w + b, y)

    return params, loss


# W3: Transformer LM, vocabulary 96, sequence 64, d_model 64, 2 layers, 4 heads, MLP 256 (GELU),
# pre-LayerNorm, learned positions, causal, a final LayerNorm, batch 32.
def w3(key):
    v, t, d, layers, heads, m = 96, 64, 64, 2, 4, 256
    keys = iter(jax.random.split(key, 64))
    params = {"tok": lecun(next(keys), (v, d), 1), "pos": lecun(next(keys), (t, d), 1), "blocks": []}
    for _ in range(layers):
        params["blocks"].append({
            "ln1": (jnp.ones(d), jnp.zeros(d)), "ln2": (jnp.ones(d), jnp.zeros(d)),
            "q": (lecun(next(keys), (d, d), d), jnp.zeros(d)), "k": (lecun(next(keys), (d, d), d), jnp.zeros(d)),
            "v": (lecun(next(keys), (d, d), d), jnp.zeros(d)), "o": (lecun(next(keys), (d, d), d), jnp.zeros(d)),
            "fc1": (lecun(next(keys), (d, m), d), jnp.zeros(m)), "fc2": (lecun(next(keys), (m, d), m), jnp.zeros(d)),
        })
    params["lnf"] = (jnp.ones(d), jnp.zeros(d))
    params["head"] = (lecun(next(keys), (d, v), d), jnp.zeros(v))
    x = jax.random.randint(next(keys), (32, t), 0, v)
    y = jax.random.randint(next(keys), (32 * t,), 0, v)
    mask = jnp.tril(jnp.ones((t, t), bool))

    def ln(h, p):
        mu = jnp.mean(h, -1, keepdims=True)
        var = jnp.mean((h - mu) ** 2, -1, keepdims=True)
        return (h - mu) / jnp.sqrt(var + 1e-5) * p[0] + p[1]

    def dense(h, p):
        return h @ p[0] + p[1]

    def loss(p):
        h = p["tok"][x] + p["pos"][None, :, :]
        for b in p["blocks"]:
            u = ln(h, b["ln1"])
            q, k, vv = (dense(u, b[n]).reshape(32, t, heads, d // heads) for n in ("q", "k", "v"))
            s = jnp.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(d // heads)
            s = jnp.where(mask, s, -1e9)
            a = jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(s, -1), vv).reshape(32, t, d)
            h = h + dense(a, b["o"])
            h = h + dense(jax.nn.gelu(dense(ln(h, b["ln2"]), b["fc1"])), b["fc2"])
        h = ln(h, p["lnf"]).reshape(32 * t, d)
        return cross_entropy(dense(h, p["head"]), y)

    return params, loss


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3}



def measure(name, repeats):
    params, loss = WORKLOADS[name](jax.random.PRNGKey(0))
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    grad = jax.jit(jax.value_and_grad(loss))

    @jax.jit
    def sgd(p, mom):
        _, g = jax.value_and_grad(loss)(p)
        mom = jax.tree_util.tree_map(lambda m, gi: 0.9 * m + gi, mom, g)
        return jax.tree_util.tree_map(lambda w, m: w - 0.01 * m, p, mom), mom

    # The timed HVP takes the parameters as an argument, so every call computes the primals
    # (activations and their cotangents) as well as the tangents, as `repro bench`'s HVP does.
    # Closed over, the parameters become compile-time constants and XLA folds every primal
    # into the program: W1's HVP then took 3.3 ms against 4.3-4.5 ms here, on the same machine.
    hvp_at = jax.jit(lambda p, v: jax.jvp(jax.grad(loss), (p,), (unravel(v),))[1])

    # Lanczos applies H at one point 20 times; there the folded primals are the counterpart of
    # repro's primal reuse (`PrimalCache`: the products' primals are recorded once, replayed).
    @jax.jit
    def hvp_folded(v):
        return jax.jvp(jax.grad(loss), (params,), (unravel(v),))[1]

    mom = jax.tree_util.tree_map(jnp.zeros_like, params)
    n = flat.size
    rng = np.random.default_rng(0)
    v = jnp.asarray(rng.standard_normal(n), jnp.float32)

    def lanczos20():
        lanczos(lambda x: np.asarray(jax.flatten_util.ravel_pytree(hvp_folded(jnp.asarray(x, jnp.float32)))[0], np.float64), n, rng)

    return row(name, n, lambda: jax.block_until_ready(grad(params)), lambda: jax.block_until_ready(sgd(params, mom)),
               lambda: jax.block_until_ready(hvp_at(params, v)), lanczos20, repeats)


if __name__ == "__main__":
    main("jax", jax.__version__, measure)
