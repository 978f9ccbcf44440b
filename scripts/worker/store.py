"""The sharded feature store of harness/grad (store.go), written from Python.

A shard of rows [start, end) of a pool of N records is
    shard-<start:09d>-<end:09d>.features.npy   [end-start, dim] float16/float32
    shard-<start:09d>-<end:09d>.<vector>.npy   [end-start] float32 (norms, loss, el2n)
    shard-<start:09d>-<end:09d>.json           manifest, written last, atomically
and the manifest records format "tive-feature-shard/1", the projector
identity (kind, seed, dim, dtype), N, the row range and every file's SHA-256.
A shard exists only once its manifest does, so a killed extraction resumes at
the first missing shard (ShardWriter.done), exactly as the Go writer.
"""

import hashlib
import json
import os
import tempfile

import numpy as np

FORMAT = "tive-feature-shard/1"


def shard_base(start, end):
    return "shard-%09d-%09d" % (start, end)


def shard_name(start, end):
    return shard_base(start, end) + ".json"


def atomic_write(path, data):
    """Write bytes to path atomically: temp file in the folder, fsync, rename, fsync the folder."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dfd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def npy_bytes(arr):
    """The .npy encoding (format 1.0, little-endian) of arr."""
    import io

    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


class ShardWriter:
    """Writes shards of one projector over a pool of `records` records into `dir`."""

    def __init__(self, dir, projector_id, records):
        self.dir, self.projector, self.records = dir, dict(projector_id), records

    def done(self, start, end):
        """Whether a whole shard [start, end) of this projector and pool is there."""
        try:
            with open(os.path.join(self.dir, shard_name(start, end))) as f:
                s = json.load(f)
        except (OSError, ValueError):
            return False
        return s.get("format") == FORMAT and s.get("projector") == self.projector and s.get("records") == self.records

    def write(self, start, end, features, vectors):
        """features [end-start, dim] (array-like), vectors {name: [end-start]}."""
        n, dim = end - start, self.projector["dim"]
        features = np.asarray(features, dtype=np.float32)
        if features.shape != (n, dim):
            raise ValueError("shard [%d, %d): features of shape %s, want (%d, %d)" % (start, end, features.shape, n, dim))
        os.makedirs(self.dir, exist_ok=True)
        base = shard_base(start, end)
        dt = {"float16": "<f2", "float32": "<f4"}[self.projector["dtype"]]
        man = {"format": FORMAT, "projector": self.projector, "records": self.records, "start": start, "end": end,
               "features": self._put(base + ".features.npy", features.astype(dt)), "vectors": {}}
        for k in sorted(vectors):
            v = np.asarray(vectors[k], dtype="<f4")
            if v.shape != (n,):
                raise ValueError("shard [%d, %d): vector %r of shape %s, want (%d,)" % (start, end, k, v.shape, n))
            man["vectors"][k] = self._put(base + "." + k + ".npy", v)
        atomic_write(os.path.join(self.dir, shard_name(start, end)), (json.dumps(man, indent=2) + "\n").encode())

    def _put(self, name, arr):
        b = npy_bytes(arr)
        atomic_write(os.path.join(self.dir, name), b)
        return {"file": name, "sha256": hashlib.sha256(b).hexdigest()}


def shard_ranges(start, end, size):
    """[(lo, hi), ...] of rows [start, end) in shards of `size` from start."""
    if size <= 0:
        raise ValueError("shard_size must be positive, got %d" % size)
    return [(lo, min(end, lo + size)) for lo in range(start, end, size)]
