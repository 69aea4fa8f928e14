"""Writes two Fashion-MNIST measurement batches as `repro hessian --batch` reads them, with numpy
alone (a safetensors file is an 8-byte little-endian header length, a JSON header, then raw
little-endian data): OUT/w1-batch.safetensors, the first 128 training images as 784 standardized
features (for `mlp:784-...`), and OUT/wrn-batch.safetensors, the first 256 as 14x14x1 NHWC
images by 2x2 mean pooling (for the `:tiny` zoo models).

    python3 scripts/examples/fashion_batches.py /tmp/h18
    .build/release/repro hessian --model wrn-nobn:tiny --init-seed 0 \
        --batch /tmp/h18/wrn-batch.safetensors --top 3 --trace --density /tmp/h18/wrn
"""
import gzip, json, os, struct, sys
import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else "batches"
os.makedirs(out, exist_ok=True)
root = "/usr/share/datasets/fashion-mnist"
with gzip.open(f"{root}/train-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28).astype(np.float32) / 255
with gzip.open(f"{root}/train-labels-idx1-ubyte.gz") as f:
    labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
def write(path, x, y):
    x = np.ascontiguousarray(x, np.float32); y = np.ascontiguousarray(y, np.int64)
    hx, hy = x.tobytes(), y.tobytes()
    header = {"x": {"dtype": "F32", "shape": list(x.shape), "data_offsets": [0, len(hx)]},
              "y": {"dtype": "I64", "shape": list(y.shape), "data_offsets": [len(hx), len(hx) + len(hy)]}}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h); f.write(hx); f.write(hy)
n = 128
x = images[:n]; x = (x - x.mean()) / x.std()
write(os.path.join(out, "w1-batch.safetensors"), x.reshape(n, 784), labels[:n])
m = 256
p = images[:m].reshape(m, 14, 2, 14, 2).mean(axis=(2, 4)); p = (p - p.mean()) / p.std()
write(os.path.join(out, "wrn-batch.safetensors"), p.reshape(m, 14, 14, 1), labels[:m])
print(f"wrote {out}/w1-batch.safetensors and {out}/wrn-batch.safetensors")
