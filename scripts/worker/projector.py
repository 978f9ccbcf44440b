"""Random projections of per-example gradients, identical to harness/grad.

The matrix entries come from the counter-based hash of harness/grad/projector.go
(RademacherSign): entry (row, col) of the matrix seeded by `seed` is

    +1 if the top bit of mix64(mix64(seed) ^ (row << 32 | col)) is 0, else -1

with mix64 the splitmix64 output function. Any machine, any shard, any device
generates the same matrix, so features from the Go projector and from this
worker are comparable. All arithmetic runs on torch int64 tensors, whose
multiplication wraps modulo 2**64; right shifts are made logical by masking.

Two projectors, as in Go:
  rademacher  p = g^T R, R[i, j] = sign(seed, i, j) / sqrt(dim), g the flat
              gradient (factors concatenated, each [In, Out] row-major).
  factored    per factor f: Scale * (X P_in)^T (DY P_out) [side, side],
              P_in[i, c] = sign(mix64(seed ^ 2f), i, c) / sqrt(side),
              P_out[o, c] = sign(mix64(seed ^ (2f+1)), o, c) / sqrt(side).
"""

import math

import torch

M64 = (1 << 64) - 1


def _s64(x):
    """The int64 with the same bits as the uint64 x."""
    x &= M64
    return x - (1 << 64) if x >= 1 << 63 else x


_C0 = _s64(0x9E3779B97F4A7C15)
_C1 = _s64(0xBF58476D1CE4E5B9)
_C2 = _s64(0x94D049BB133111EB)


def mix64_int(z):
    """splitmix64's output function on a Python int (uint64 semantics)."""
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def _lsr(z, k):
    """Logical right shift of int64 tensor bits."""
    return (z >> k) & ((1 << (64 - k)) - 1)


def mix64(z):
    """splitmix64's output function on an int64 tensor (bits as uint64)."""
    z = z + _C0
    z = (z ^ _lsr(z, 30)) * _C1
    z = (z ^ _lsr(z, 27)) * _C2
    return z ^ _lsr(z, 31)


def signs(seed, row0, row1, cols, device="cpu", dtype=torch.float32):
    """Rows [row0, row1) of the seeded sign matrix, [row1-row0, cols] of +-1."""
    ms = _s64(mix64_int(seed & M64))
    rows = torch.arange(row0, row1, dtype=torch.int64, device=device)
    c = torch.arange(cols, dtype=torch.int64, device=device)
    z = (rows[:, None] << 32) | c[None, :]
    h = mix64(z ^ ms)
    one = torch.ones((), dtype=dtype, device=device)
    return torch.where(h < 0, -one, one)


class Rademacher:
    """Dense projection; the matrix is generated in row blocks of at most
    `block` entries, never kept whole."""

    kind = "rademacher"

    def __init__(self, seed, dim, block=1 << 24):
        self.seed, self.dim, self.block = seed, dim, block

    def project_flat(self, flat):
        """flat [B, P] -> [B, dim]."""
        out = torch.zeros(flat.shape[0], self.dim, dtype=torch.float32, device=flat.device)
        self.project_into(out, flat, 0)
        return out

    def project_into(self, out, part, at):
        """out [B, dim] += part [B, P_k] times rows [at, at+P_k) of R: the
        flat gradient may be projected one factor at a time."""
        part = part.to(torch.float32)
        rows = max(1, self.block // self.dim)
        scale = 1.0 / math.sqrt(self.dim)
        for r0 in range(0, part.shape[1], rows):
            r1 = min(part.shape[1], r0 + rows)
            mat = signs(self.seed, at + r0, at + r1, self.dim, part.device) * scale
            out += part[:, r0:r1] @ mat


class Factored:
    """LoGra-style per-factor Kronecker projection; shapes is [(In, Out), ...]."""

    kind = "factored"

    def __init__(self, seed, side, shapes, device="cpu"):
        self.seed, self.side = seed, side
        self.dim = len(shapes) * side * side
        s = 1.0 / math.sqrt(side)
        self.pin, self.pout = [], []
        for f, (n_in, n_out) in enumerate(shapes):
            s_in = mix64_int((seed ^ (2 * f)) & M64)
            s_out = mix64_int((seed ^ (2 * f + 1)) & M64)
            self.pin.append(signs(s_in, 0, n_in, side, device) * s)
            self.pout.append(signs(s_out, 0, n_out, side, device) * s)

    def project_factors(self, factors):
        """factors: [(scale, X [B, T, In], DY [B, T, Out]), ...] (padding rows
        zero) -> [B, dim]."""
        blocks = []
        for f, (scale, x, dy) in enumerate(factors):
            xp = x.to(torch.float32) @ self.pin[f]
            dp = dy.to(torch.float32) @ self.pout[f]
            blocks.append((scale * torch.einsum("bti,bto->bio", xp, dp)).flatten(1))
        return torch.cat(blocks, dim=1)


def spec_id(spec):
    """The ProjectorID (kind, seed, dim, dtype) that spec asks for."""
    return {"kind": spec["kind"], "seed": int(spec.get("seed", 0)), "dim": int(spec.get("dim", 0)),
            "dtype": spec.get("dtype") or "float32"}


def build(spec, shapes, device="cpu"):
    """The projector of a grad.ProjectorSpec dict for gradients of these
    factor shapes, and its identity (as written in shard manifests)."""
    kind = spec.get("kind")
    pid = spec_id(spec)
    if kind == "rademacher":
        if pid["dim"] <= 0:
            raise ValueError("rademacher projector needs dim > 0, got %d" % pid["dim"])
        return Rademacher(pid["seed"], pid["dim"]), pid
    if kind == "factored":
        side = int(spec.get("side", 0))
        if side <= 0:
            raise ValueError("factored projector needs side > 0, got %d" % side)
        want = len(shapes) * side * side
        if pid["dim"] not in (0, want):
            raise ValueError("factored projector: dim %d != %d factors * side^2 %d" % (pid["dim"], len(shapes), side * side))
        pid["dim"] = want
        return Factored(pid["seed"], side, shapes, device), pid
    raise ValueError("unknown projector kind %r (want rademacher or factored)" % kind)
