#!/usr/bin/env python3
"""Projects fixed per-example gradient factors the way the worker does, for
the Go test that compares with harness/grad (harness/backend/pyworker_test.go).

    python3 parity.py DIR

DIR/factors.json: {"off": [0, t1, ..., T], "factors": [{"in": I, "out": O,
"scale": s, "x": "f0.x.npy", "dy": "f0.dy.npy"}, ...], "rademacher": {"seed":
S, "dim": K}, "factored": {"seed": S, "side": C}}, X [T, I] and DY [T, O]
token-packed as harness/model's GradFactor (example e owns rows off[e] to
off[e+1]). Writes DIR/py.norms.npy [B] (float64), DIR/py.rademacher.npy and
DIR/py.factored.npy [B, dim] (float32).
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pergrad  # noqa: E402
import projector  # noqa: E402


def main(d):
    with open(os.path.join(d, "factors.json")) as f:
        spec = json.load(f)
    off = spec["off"]
    b, t = len(off) - 1, max(off[e + 1] - off[e] for e in range(len(off) - 1))
    factors, shapes = [], []
    for fc in spec["factors"]:
        x = torch.from_numpy(np.load(os.path.join(d, fc["x"])).astype(np.float32))
        dy = torch.from_numpy(np.load(os.path.join(d, fc["dy"])).astype(np.float32))
        xp, dp = torch.zeros(b, t, fc["in"]), torch.zeros(b, t, fc["out"])
        for e in range(b):
            n = off[e + 1] - off[e]
            xp[e, :n], dp[e, :n] = x[off[e]:off[e + 1]], dy[off[e]:off[e + 1]]
        factors.append((float(fc["scale"]), xp, dp))
        shapes.append((fc["in"], fc["out"]))
    parts = pergrad.per_example_grads(factors)
    np.save(os.path.join(d, "py.norms.npy"), pergrad.norms(parts).numpy())
    rad, _ = projector.build(dict(spec["rademacher"], kind="rademacher"), shapes)
    out = torch.zeros(b, rad.dim)
    at = 0
    for p in parts:
        rad.project_into(out, p, at)
        at += p.shape[1]
    np.save(os.path.join(d, "py.rademacher.npy"), out.numpy())
    fac, _ = projector.build(dict(spec["factored"], kind="factored"), shapes)
    np.save(os.path.join(d, "py.factored.npy"), fac.project_factors(factors).numpy())


if __name__ == "__main__":
    main(sys.argv[1])
