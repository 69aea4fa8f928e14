"""Writes a checkpoint of the zoo's small CNN (`cnn:small`: conv 3x3 -> 16, ReLU, conv 3x3 stride 2
-> 32, ReLU, conv 3x3 stride 2 -> 64, ReLU, global average pool, dense -> 10) and a batch of 256
Fashion-MNIST training images, as `repro hessian` reads them (README: "Measuring the sharpness of
your own checkpoint"). Needs numpy and safetensors (pip install numpy safetensors).

    python3 scripts/examples/hessian_cnn.py /tmp/cnn
    .build/release/repro hessian --model cnn:small --checkpoint /tmp/cnn/w.safetensors \
        --batch /tmp/cnn/b.safetensors --top 3 --trace --density /tmp/cnn/density
"""
import gzip
import os
import sys

import numpy as np
from safetensors.numpy import save_file

out = sys.argv[1] if len(sys.argv) > 1 else "cnn-example"
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)


def lecun(shape, fan_in):
    return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)


# Convolution kernels are HWIO ([kh, kw, in, out]), dense weights [in, out]: the layout of
# `repro hessian`'s checkpoints (a PyTorch OIHW kernel is w.permute(2, 3, 1, 0)).
weights = {
    "conv1.weight": lecun((3, 3, 1, 16), 9 * 1), "conv1.bias": np.zeros(16, np.float32),
    "conv2.weight": lecun((3, 3, 16, 32), 9 * 16), "conv2.bias": np.zeros(32, np.float32),
    "conv3.weight": lecun((3, 3, 32, 64), 9 * 32), "conv3.bias": np.zeros(64, np.float32),
    "dense.weight": lecun((64, 10), 64), "dense.bias": np.zeros(10, np.float32),
}
save_file(weights, os.path.join(out, "w.safetensors"))

# Images NHWC float32, standardized; labels int64.
root = "/usr/share/datasets/fashion-mnist"
with gzip.open(f"{root}/train-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28, 1)[:256]
with gzip.open(f"{root}/train-labels-idx1-ubyte.gz") as f:
    labels = np.frombuffer(f.read(), np.uint8, offset=8)[:256]
x = images.astype(np.float32) / 255
x = (x - x.mean()) / x.std()
save_file({"x": x, "y": labels.astype(np.int64)}, os.path.join(out, "b.safetensors"))
print(f"wrote {out}/w.safetensors and {out}/b.safetensors")
