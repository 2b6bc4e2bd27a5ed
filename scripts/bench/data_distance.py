"""How far digits-m is from digits: a small CNN trained on one domain, scored on both.

Reads the views dumped by `npx tsx scripts/bench/data.ts --distance` (raw float32 NHWC + int32 labels)
and prints one JSON line per (train domain, test domain). Run with Debian's Python (python3-torch):
`/usr/bin/python3 scripts/bench/data_distance.py <dump dir> [epochs] [seeds]`.
"""
import json
import sys
import time

import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)


def load(d, name, split):
    meta = json.load(open(f"{d}/{name}-{split}.json"))
    x = np.fromfile(f"{d}/{name}-{split}.x", dtype=np.float32).reshape(meta["n"], meta["h"], meta["w"], meta["c"])
    y = np.fromfile(f"{d}/{name}-{split}.y", dtype=np.int32)
    return torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(y).long()


def net():
    # the reference CNN of findings.md: conv16-pool-conv32-pool-conv64-GAP-dense
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(64, 10),
    )


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def main():
    d = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    seeds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    data = {n: {s: load(d, n, s) for s in ("train", "val")} for n in ("digits", "digits-m")}
    for src in ("digits", "digits-m"):
        for seed in range(seeds):
            torch.manual_seed(seed)
            model = net()
            opt = torch.optim.Adam(model.parameters(), lr=2e-3)
            x, y = data[src]["train"]
            t0 = time.time()
            for _ in range(epochs):
                model.train()
                perm = torch.randperm(len(y))
                for i in range(0, len(y), 64):
                    idx = perm[i:i + 64]
                    opt.zero_grad()
                    nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
                    opt.step()
            row = {"train": src, "seed": seed, "epochs": epochs, "n_train": len(y), "seconds": round(time.time() - t0, 1)}
            for tgt in ("digits", "digits-m"):
                row[f"acc_{tgt}"] = round(accuracy(model, *data[tgt]["val"]), 4)
            print(json.dumps(row), flush=True)


main()
