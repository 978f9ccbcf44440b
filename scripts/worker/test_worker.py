"""Tests of the worker's model-independent parts (need torch and numpy only).

    python3 -m unittest discover -s scripts/worker -p 'test_*.py'
"""

import io
import json
import os
import random
import shutil
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F

import pergrad
import projector
import store
import tive_worker
import toymodel

WORDS = "the a red blue green square circle left right top bottom yes no one two three is there what color".split()


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def records(n, seed=0):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        q = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 8)))
        a = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5)))
        out.append({"id": str(i), "conversations": [{"from": "human", "value": "<image>\n" + q}, {"from": "gpt", "value": a}],
                    "dataset": "toy"})
    return out


class Hash(unittest.TestCase):
    def test_tensor_hash_matches_int_hash(self):
        rng = random.Random(1)
        vals = [rng.getrandbits(64) for _ in range(200)] + [0, 1, (1 << 64) - 1, 1 << 63]
        got = projector.mix64(torch.tensor([projector._s64(v) for v in vals], dtype=torch.int64)).tolist()
        want = [projector._s64(projector.mix64_int(v)) for v in vals]
        self.assertEqual(got, want)

    def test_signs_match_definition(self):
        for seed in (0, 7, (1 << 64) - 3):
            m = projector.signs(seed, (1 << 31) - 2, (1 << 31) + 2, 5)
            for i, row in enumerate(range((1 << 31) - 2, (1 << 31) + 2)):
                for col in range(5):
                    z = projector.mix64_int(projector.mix64_int(seed) ^ ((row << 32) | col))
                    self.assertEqual(float(m[i, col]), 1.0 - 2.0 * (z >> 63), (seed, row, col))


class PerExample(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        toymodel.create(os.path.join(self.dir, "base"), WORDS, seed=3)
        m = toymodel.load(os.path.join(self.dir, "base"), "cpu")
        toymodel.attach(m.module, {"rank": 2, "alpha": 4, "dropout": 0.1})
        torch.manual_seed(5)
        for n, p in m.module.named_parameters():  # non-zero B, so every factor has a gradient
            if "lora_B" in n:
                p.data.normal_(0, 0.1)
            p.requires_grad_("lora_" in n)
        m.module.eval()
        self.m = m

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_capture_matches_autograd_per_example(self):
        recs = records(5, seed=2)
        cap = pergrad.Capture(self.m.module)
        batch = self.m.collate(recs, "")
        with cap:
            loss, _, _ = pergrad.response_losses(self.m.forward(batch), batch["labels"])
            loss.sum().backward()
        parts = pergrad.per_example_grads(cap.factors())
        got = torch.cat(parts, dim=1)
        for e, r in enumerate(recs):
            self.m.module.zero_grad(set_to_none=True)
            b1 = self.m.collate([r], "")
            z, y = self.m.forward(b1)[:, :-1], b1["labels"][:, 1:]
            F.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1), ignore_index=-100).backward()
            want = []
            for _, a, b in pergrad.lora_layers(self.m.module):
                want += [a.weight.grad.t().flatten(), b.weight.grad.t().flatten()]  # [In, Out] row-major
            want = torch.cat(want)
            self.assertTrue(torch.allclose(got[e], want, rtol=1e-4, atol=1e-6), "example %d: max diff %g" % (e, (got[e] - want).abs().max()))
            self.assertAlmostEqual(float(pergrad.norms(parts)[e]), float(want.norm()), places=4)
        self.assertEqual(len(cap.shapes), 2 * 4 * 2)

    def test_factored_is_kronecker_of_flat(self):
        recs = records(3, seed=4)
        cap = pergrad.Capture(self.m.module)
        batch = self.m.collate(recs, "")
        with cap:
            loss, _, _ = pergrad.response_losses(self.m.forward(batch), batch["labels"])
            loss.sum().backward()
        factors = cap.factors()
        fac = projector.Factored(9, 3, cap.shapes)
        got = fac.project_factors(factors)
        parts = pergrad.per_example_grads(factors)
        for e in range(len(recs)):
            want = []
            for f, ((n_in, n_out), p) in enumerate(zip(cap.shapes, parts)):
                g = p[e].view(n_in, n_out)
                want.append((fac.pin[f].t() @ g @ fac.pout[f]).flatten())
            self.assertTrue(torch.allclose(got[e], torch.cat(want), rtol=1e-4, atol=1e-6))


class Protocol(unittest.TestCase):
    def serve(self, *reqs):
        out = io.StringIO()
        tive_worker.serve(io.StringIO("".join(json.dumps(r) + "\n" if isinstance(r, dict) else r + "\n" for r in reqs)), out)
        return [json.loads(line) for line in out.getvalue().splitlines()]

    def test_requests(self):
        got = self.serve({"v": 2, "id": "a", "op": "hello"}, "not json", {"v": 1, "id": "b", "op": "dance"},
                         {"v": 1, "id": "c", "op": "features"}, {"v": 1, "id": "d", "op": "hello"})
        self.assertEqual([(r["v"], r["id"], r["type"]) for r in got],
                         [(1, "a", "error"), (1, "", "error"), (1, "b", "error"), (1, "c", "error"), (1, "d", "result")])
        self.assertIn("protocol version 2", got[0]["error"])
        self.assertIn("unknown op 'dance'", got[2]["error"])
        self.assertEqual(got[4]["result"], {"protocol": 1, "worker": "tive-torch", "ops": ["train", "features", "predict"]})


class Shards(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        d = self.dir
        with open(os.path.join(d, "records.json"), "w") as f:
            json.dump(records(11), f)
        toymodel.create(os.path.join(d, "base"), WORDS, seed=1)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def run_ops(self, *reqs):
        out = io.StringIO()
        lines = "".join(json.dumps({"v": 1, "id": str(i), "op": op, "args": a}) + "\n" for i, (op, a) in enumerate(reqs))
        tive_worker.serve(io.StringIO(lines), out)
        res = [json.loads(line) for line in out.getvalue().splitlines()]
        for r in res:
            self.assertNotEqual(r["type"], "error", r.get("error"))
        return [r["result"] for r in res if r["type"] == "result"]

    def test_train_features_resume_predict(self):
        d = self.dir
        train = {"model_in": os.path.join(d, "base"), "model_out": os.path.join(d, "ref"), "records": os.path.join(d, "records.json"),
                 "lora": {"rank": 2, "alpha": 4, "dropout": 0.05}, "train": {"batch_size": 4, "epochs": 2}, "seed": 3,
                 "meta": {"stage": "reference"}}
        feats = {"model": os.path.join(d, "ref"), "records": os.path.join(d, "records.json"), "image_root": "",
                 "projector": {"kind": "rademacher", "seed": 0, "dim": 8, "dtype": "float16"}, "batch_size": 3, "shard_size": 4,
                 "out": os.path.join(d, "store")}
        tr, fr = self.run_ops(("train", train), ("features", feats))
        self.assertEqual(tr["steps"], 6)
        self.assertEqual(fr["shards"], ["shard-000000000-000000004.json", "shard-000000004-000000008.json", "shard-000000008-000000011.json"])
        self.assertEqual(fr["projector"], {"kind": "rademacher", "seed": 0, "dim": 8, "dtype": "float16"})
        st = os.path.join(d, "store")
        man = json.loads(read(os.path.join(st, "shard-000000004-000000008.json")))
        self.assertEqual((man["format"], man["records"], man["start"], man["end"]), ("tive-feature-shard/1", 11, 4, 8))
        self.assertEqual(sorted(man["vectors"]), ["el2n", "loss", "norms"])
        f = np.load(os.path.join(st, man["features"]["file"]))
        self.assertEqual((f.shape, f.dtype), ((4, 8), np.float16))
        self.assertTrue((np.load(os.path.join(st, man["vectors"]["norms"]["file"])) > 0).all())
        before = {n: read(os.path.join(st, n)) for n in os.listdir(st)}
        # Resume: whole shards are kept; a missing manifest is recomputed, same bytes.
        os.remove(os.path.join(st, "shard-000000004-000000008.json"))
        (fr2,) = self.run_ops(("features", feats))
        self.assertEqual(fr2["reused"], 2)
        after = {n: read(os.path.join(st, n)) for n in os.listdir(st)}
        self.assertEqual(before, after)
        # A batch of another size gives the same features (up to float rounding).
        feats3 = dict(feats, batch_size=11, out=os.path.join(d, "store3"), shard_size=11)
        self.run_ops(("features", feats3))
        a = np.concatenate([np.load(os.path.join(st, "shard-%09d-%09d.features.npy" % r)) for r in ((0, 4), (4, 8), (8, 11))])
        b = np.load(os.path.join(d, "store3", "shard-000000000-000000011.features.npy"))
        np.testing.assert_allclose(a.astype(np.float32), b.astype(np.float32), rtol=2e-2, atol=1e-3)

        with open(os.path.join(d, "q.jsonl"), "w") as f:
            f.write('{"question_id": 7, "text": "what color is the square"}\n{"question_id": "x", "text": "is there a circle"}\n')
        (pr,) = self.run_ops(("predict", {"model": os.path.join(d, "ref"), "questions": os.path.join(d, "q.jsonl"),
                                          "answers": os.path.join(d, "out", "a.jsonl"), "max_new_tokens": 3, "model_id": "toy"}))
        self.assertEqual(pr, {"answers": 2})
        ans = [json.loads(line) for line in read(os.path.join(d, "out", "a.jsonl"), "r").splitlines()]
        self.assertEqual([(a["question_id"], a["model_id"]) for a in ans], [(7, "toy"), ("x", "toy")])

    def test_bad_range(self):
        out = io.StringIO()
        req = {"v": 1, "id": "1", "op": "features", "args": {"model": os.path.join(self.dir, "base"), "records": os.path.join(self.dir, "records.json"),
                                                           "projector": {"kind": "rademacher", "dim": 4}, "shard_size": 4, "start": 8, "end": 20, "out": self.dir}}
        tive_worker.serve(io.StringIO(json.dumps(req) + "\n"), out)
        r = json.loads(out.getvalue())
        self.assertEqual(r["type"], "error")
        self.assertIn("rows [8, 20) are not a range of the 11 records", r["error"])


if __name__ == "__main__":
    unittest.main()
