#!/usr/bin/env python3
"""End-to-end check of the LLaVA path of the worker, sized for a few minutes.

    python3 scripts/worker/gpu_check.py [--out DIR] [--world DIR] [--records 48] [--device cuda|cpu]

Builds a tiny randomly initialised LLaVA (tiny_llava.py: CLIP vision tower
and Llama decoder of two layers each, width 64, word-level tokenizer over
the records' words), then drives tive_worker.py through the protocol (a
child process per request, as harness/backend.External does): train (full
fine-tuning, then LoRA r=8 on q, k, v, o), features (rademacher and factored projections, shards checked,
one shard deleted and resumed: same bytes), predict (greedy, vicuna_v1).
Finally it recomputes the per-example gradient factors of the first records
in process, projects them with parity.py and compares with the worker's
shards, and leaves the dump in DIR/parity for the Go projector:

    TIVE_PARITY_DIR=DIR/parity go test ./harness/backend -run ParityDump

Records: the first N of a built-in world's mixture.json (--world, images
under DIR/images), else N synthetic shape scenes drawn here. Needs torch,
transformers, peft, tokenizers and PIL; runs on CPU when there is no GPU.
Exits 1 when a check fails; DIR/gpu_check.json holds the summary.
"""

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

def synthetic(n, image_dir, seed=0):
    """n LLaVA records over 64x64 scenes of coloured shapes."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    colors = {"red": (230, 40, 40), "green": (40, 200, 60), "blue": (50, 80, 230), "yellow": (240, 220, 40)}
    places = ["top left", "top right", "bottom left", "bottom right"]
    tasks = ["vqav2", "gqa", "llava_instruct"]
    os.makedirs(image_dir, exist_ok=True)
    recs = []
    for i in range(n):
        img = Image.new("RGB", (64, 64), (20, 20, 30))
        d = ImageDraw.Draw(img)
        c, p = rng.choice(list(colors)), rng.randrange(4)
        x, y = (p % 2) * 32 + 6, (p // 2) * 32 + 6
        d.rectangle([x, y, x + 20, y + 20], fill=colors[c])
        name = "syn/%d.png" % i
        os.makedirs(os.path.join(image_dir, "syn"), exist_ok=True)
        img.save(os.path.join(image_dir, name))
        task = tasks[i % 3]
        if task == "vqav2":
            q, a = "What color is the square?\nAnswer the question using a single word or phrase.", c
        elif task == "gqa":
            q, a = "Where is the square?\nAnswer the question using a single word or phrase.", places[p]
        else:
            q, a = "Describe the image briefly.", "There is a %s square in the %s." % (c, places[p])
        recs.append({"id": "syn-%d" % i, "image": name, "dataset": task,
                     "conversations": [{"from": "human", "value": "<image>\n" + q}, {"from": "gpt", "value": a}]})
    return recs


class Worker:
    """tive_worker.py in a child process, one per request (as External)."""

    def __init__(self, device, log):
        self.device, self.log = device, log

    def call(self, op, args):
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "tive_worker.py"), "--device", self.device],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)
        for i, (o, a) in enumerate((("hello", None), (op, args))):
            req = {"v": 1, "id": str(i), "op": o}
            if a is not None:
                req["args"] = a
            p.stdin.write(json.dumps(req) + "\n")
            p.stdin.flush()
            while True:
                line = p.stdout.readline()
                if not line:
                    raise RuntimeError("%s: worker ended without answering (exit %s)" % (o, p.wait()))
                r = json.loads(line)
                if r.get("v") != 1:
                    raise RuntimeError("%s: protocol version %s" % (o, r.get("v")))
                if r["type"] == "progress":
                    continue
                if r["type"] == "error":
                    raise RuntimeError("%s: %s" % (o, r["error"]))
                res = r["result"]
                break
        p.stdin.close()
        if p.wait() != 0:
            raise RuntimeError("%s: worker exited with %d" % (op, p.returncode))
        return res


def digest(dir):
    out = {}
    for n in sorted(os.listdir(dir)):
        with open(os.path.join(dir, n), "rb") as f:
            out[n] = hashlib.sha256(f.read()).hexdigest()
    return out


def parity_dump(model_dir, recs, image_root, device, out_dir, proj):
    """Per-example factors of recs recomputed in process, token-packed, with
    parity.py's outputs: the input of the Go test TestPyParityDump."""
    import numpy as np
    import torch

    import llava
    import parity
    import pergrad

    m = llava.load(model_dir, device, trainable_lora=True)
    m.module.eval()
    cap = pergrad.Capture(m.module)
    batch = m.collate(recs, image_root)
    with cap:
        loss, _, _ = pergrad.response_losses(m.forward(batch), batch["labels"])
        loss.sum().backward()
    lens = batch["attention_mask"].sum(1).tolist()
    off = [0]
    for n in lens:
        off.append(off[-1] + n)
    os.makedirs(out_dir, exist_ok=True)
    spec = {"off": off, "factors": [], "rademacher": proj["rademacher"], "factored": proj["factored"]}
    for f, (s, x, dy) in enumerate(cap.factors()):
        xs = torch.cat([x[e, :n] for e, n in enumerate(lens)]).cpu().numpy().astype(np.float32)
        ds = torch.cat([dy[e, :n] for e, n in enumerate(lens)]).cpu().numpy().astype(np.float32)
        np.save(os.path.join(out_dir, "f%d.x.npy" % f), xs)
        np.save(os.path.join(out_dir, "f%d.dy.npy" % f), ds)
        spec["factors"].append({"in": xs.shape[1], "out": ds.shape[1], "scale": s, "x": "f%d.x.npy" % f, "dy": "f%d.dy.npy" % f})
    with open(os.path.join(out_dir, "factors.json"), "w") as fh:
        json.dump(spec, fh)
    parity.main(out_dir)
    return np.load(os.path.join(out_dir, "py.rademacher.npy"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.environ.get("OUT", "."), "gpu-check"))
    ap.add_argument("--world", help="a built-in world folder (mixture.json, images/)")
    ap.add_argument("--records", type=int, default=48)
    ap.add_argument("--device", default=None)
    a = ap.parse_args()
    import numpy as np
    import torch
    import transformers

    device = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    summary = {"device": device, "torch": torch.__version__, "transformers": transformers.__version__,
               "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None, "checks": {}}
    checks = summary["checks"]
    if a.world:
        import tive_worker

        recs = tive_worker.load_records(os.path.join(a.world, "mixture.json"))[:a.records]
        image_root = os.path.join(a.world, "images")
    else:
        image_root = os.path.join(out, "images")
        recs = synthetic(a.records, image_root)
    records = os.path.join(out, "records.json")
    with open(records, "w") as f:
        json.dump(recs, f)
    import tiny_llava

    init = os.path.join(out, "init")
    summary["vocab"] = tiny_llava.build(init, [recs])
    log = open(os.path.join(out, "worker.log"), "w")
    w = Worker(device, log)

    base = os.path.join(out, "base")  # full fine-tuning: the built-in world's pretrain stage
    pt = w.call("train", {"model_in": init, "model_out": base, "records": records, "image_root": image_root,
                          "train": {"epochs": 1, "batch_size": 8, "lr": 1e-3}, "seed": 0, "meta": {"stage": "pretrain"}})
    checks["pretrain ran"] = pt["steps"] == (len(recs) + 7) // 8
    ref = os.path.join(out, "ref")
    tr = w.call("train", {"model_in": base, "model_out": ref, "records": records, "image_root": image_root,
                          "lora": {"rank": 8, "alpha": 16, "dropout": 0.05},
                          "train": {"epochs": 3, "batch_size": 8, "lr": 2e-3}, "seed": 1, "meta": {"stage": "reference"}})
    checks["train loss falls"] = sum(tr["losses"][-3:]) < sum(tr["losses"][:3])
    summary["train"] = {"steps": tr["steps"], "first loss": tr["losses"][0], "last loss": tr["losses"][-1]}

    proj = {"rademacher": {"seed": 0, "dim": 64}, "factored": {"seed": 0, "side": 4}}
    stores = {}
    for kind, spec in proj.items():
        st = os.path.join(out, "features-" + kind)
        req = {"model": ref, "records": records, "image_root": image_root, "projector": dict(spec, kind=kind),
               "batch_size": 8, "shard_size": 16, "out": st}
        fr = w.call("features", req)
        stores[kind] = (st, req, fr)
        feats = np.concatenate([np.load(os.path.join(st, s.replace(".json", ".features.npy"))) for s in fr["shards"]])
        norms = np.concatenate([np.load(os.path.join(st, s.replace(".json", ".norms.npy"))) for s in fr["shards"]])
        checks[kind + " features finite"] = bool(np.isfinite(feats).all() and np.isfinite(norms).all())
        checks[kind + " norms positive"] = bool((norms > 0).all())
        checks[kind + " shape"] = feats.shape == (len(recs), fr["projector"]["dim"])
    st, req, fr = stores["rademacher"]
    before = digest(st)
    os.remove(os.path.join(st, fr["shards"][1]))
    fr2 = w.call("features", req)
    checks["resume reuses whole shards"] = fr2["reused"] == len(fr["shards"]) - 1
    checks["resumed shard has the same bytes"] = digest(st) == before

    qpath = os.path.join(out, "questions.jsonl")
    with open(qpath, "w") as f:
        for i, r in enumerate(recs[:16]):
            f.write(json.dumps({"question_id": i, "image": r.get("image", ""), "text": r["conversations"][0]["value"]}) + "\n")
    pr = w.call("predict", {"model": ref, "questions": qpath, "image_root": image_root,
                            "answers": os.path.join(out, "answers.jsonl"), "max_new_tokens": 8, "model_id": "tiny"})
    with open(os.path.join(out, "answers.jsonl")) as f:
        ans = [json.loads(line) for line in f]
    checks["one answer per question"] = pr["answers"] == 16 and len(ans) == 16
    summary["answers"] = [(x["question_id"], x["text"]) for x in ans[:4]]

    k = 4
    py = parity_dump(ref, recs[:k], image_root, device, os.path.join(out, "parity"), proj)
    got = np.load(os.path.join(st, fr["shards"][0].replace(".json", ".features.npy")))[:k].astype(np.float32)
    rel = float(np.abs(got - py).max() / max(1e-12, np.abs(py).max()))
    summary["worker vs parity.py max relative difference"] = rel
    checks["worker features equal parity.py's on recomputed gradients"] = rel < (2e-2 if device.startswith("cuda") else 1e-4)
    summary["seconds"] = round(time.time() - t0, 1)
    summary["ok"] = all(checks.values())
    with open(os.path.join(out, "gpu_check.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))
    print("\nGo projector check: TIVE_PARITY_DIR=%s go test ./harness/backend -run ParityDump" % os.path.join(out, "parity"))
    sys.exit(0 if summary["ok"] else 1)


if __name__ == "__main__":
    main()
