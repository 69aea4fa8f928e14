"""PyTorch peer of `repro bench` (W1-W3), eager with torch.func: the shapes, dtypes, weights and
measurements of `jax_bench.py` (gradient by torch.func.grad_and_value, one SGD heavy-ball step,
the HVP by forward-over-reverse torch.func.jvp of torch.func.grad, and 20 Lanczos steps with
Float64 vectors and full reorthogonalization). Prints one JSON object like `jax_bench.py`.

    python bench/peers/torch_bench.py --repeats 20 --only W1,W2,W3
"""
import math

import numpy as np
from common import lanczos, main, row
import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, grad_and_value, jvp

torch.manual_seed(0)


def lecun(shape, fan_in):
    return torch.randn(*shape) / math.sqrt(fan_in)


def w1():
    widths = [784, 512, 512, 10]
    p = {}
    for i in range(3):
        p[f"w{i}"] = lecun((widths[i], widths[i + 1]), widths[i])
        p[f"b{i}"] = torch.zeros(widths[i + 1])
    x, y = torch.randn(128, 784), torch.randint(0, 10, (128,))

    def loss(p):
        h = x
        for i in range(3):
            h = h @ p[f"w{i}"] + p[f"b{i}"]
            if i < 2:
                h = torch.tanh(h)
        return F.cross_entropy(h, y)

    return p, loss


def w2():
    chans = [(1, 16, 1), (16, 32, 2), (32, 64, 2)]
    p = {}
    for i, (cin, cout, _) in enumerate(chans):
        p[f"k{i}"] = lecun((cout, cin, 3, 3), 9 * cin)  # OIHW, PyTorch's layout
        p[f"c{i}"] = torch.zeros(cout)
    p["w"], p["b"] = lecun((64, 10), 64), torch.zeros(10)
    x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))

    def loss(p):
        h = x
        for i, (_, _, s) in enumerate(chans):
            # SAME padding: 1 on each side for stride 1; for stride 2 on even sizes TensorFlow pads
            # (0, 1), which F.pad gives exactly.
            h = F.conv2d(h, p[f"k{i}"], p[f"c{i}"], stride=s, padding=1) if s == 1 else \
                F.conv2d(F.pad(h, (0, 1, 0, 1)), p[f"k{i}"], p[f"c{i}"], stride=s)
            h = torch.relu(h)
        h = h.mean(dim=(2, 3))
        return F.cross_entropy(h @ p["w"] + p["b"], y)

    return p, loss


def w3():
    v, t, d, layers, heads, m = 96, 64, 64, 2, 4, 256
    p = {"tok": lecun((v, d), 1), "pos": lecun((t, d), 1)}
    for l in range(layers):
        for n in ("ln1", "ln2"):
            p[f"{l}.{n}.g"], p[f"{l}.{n}.b"] = torch.ones(d), torch.zeros(d)
        for n in ("q", "k", "v", "o"):
            p[f"{l}.{n}.w"], p[f"{l}.{n}.b"] = lecun((d, d), d), torch.zeros(d)
        p[f"{l}.fc1.w"], p[f"{l}.fc1.b"] = lecun((d, m), d), torch.zeros(m)
        p[f"{l}.fc2.w"], p[f"{l}.fc2.b"] = lecun((m, d), m), torch.zeros(d)
    p["lnf.g"], p["lnf.b"] = torch.ones(d), torch.zeros(d)
    p["head.w"], p["head.b"] = lecun((d, v), d), torch.zeros(v)
    x, y = torch.randint(0, v, (32, t)), torch.randint(0, v, (32 * t,))
    mask = torch.tril(torch.ones(t, t, dtype=torch.bool))

    def loss(p):
        h = p["tok"][x] + p["pos"][None]
        for l in range(layers):
            u = F.layer_norm(h, (d,), p[f"{l}.ln1.g"], p[f"{l}.ln1.b"], 1e-5)
            q, k, vv = ((u @ p[f"{l}.{n}.w"] + p[f"{l}.{n}.b"]).view(32, t, heads, d // heads).transpose(1, 2) for n in ("q", "k", "v"))
            s = (q @ k.transpose(-1, -2)) / math.sqrt(d // heads)
            s = s.masked_fill(~mask, -1e9)
            a = (torch.softmax(s, -1) @ vv).transpose(1, 2).reshape(32, t, d)
            h = h + a @ p[f"{l}.o.w"] + p[f"{l}.o.b"]
            u = F.layer_norm(h, (d,), p[f"{l}.ln2.g"], p[f"{l}.ln2.b"], 1e-5)
            h = h + F.gelu(u @ p[f"{l}.fc1.w"] + p[f"{l}.fc1.b"]) @ p[f"{l}.fc2.w"] + p[f"{l}.fc2.b"]
        h = F.layer_norm(h, (d,), p["lnf.g"], p["lnf.b"], 1e-5).reshape(32 * t, d)
        return F.cross_entropy(h @ p["head.w"] + p["head.b"], y)

    return p, loss


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3}



def measure(name, repeats):
    params, loss = WORKLOADS[name]()
    names = list(params)
    sizes = [params[n].numel() for n in names]
    n = sum(sizes)
    g = grad_and_value(loss)
    mom = {k: torch.zeros_like(v) for k, v in params.items()}

    def sgd():
        gr, _ = g(params)
        for k in names:
            mom[k].mul_(0.9).add_(gr[k])
        return {k: params[k] - 0.01 * mom[k] for k in names}

    def unflatten(vec):
        out, i = {}, 0
        for k, s in zip(names, sizes):
            out[k] = vec[i:i + s].view_as(params[k])
            i += s
        return out

    def hvp(vec):
        t = jvp(grad(loss), (params,), (unflatten(vec),))[1]
        return torch.cat([t[k].reshape(-1) for k in names])

    rng = np.random.default_rng(0)
    v = torch.from_numpy(rng.standard_normal(n).astype(np.float32))

    def lanczos20():
        lanczos(lambda x: hvp(torch.from_numpy(x.astype(np.float32))).double().numpy(), n, rng)

    return row(name, n, lambda: g(params), sgd, lambda: hvp(v), lanczos20, repeats)


if __name__ == "__main__":
    main("pytorch", torch.__version__, measure, threads=torch.get_num_threads())
