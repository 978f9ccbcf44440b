#!/usr/bin/env python3
"""tive's PyTorch worker: serves train, features and predict over the worker
protocol of harness/backend (protocol.go), version 1, on stdin/stdout.

    python3 scripts/worker/tive_worker.py [--device cuda|cpu]

Requests are JSON lines {"v":1,"id":..,"op":"hello"|"train"|"features"|"predict","args":{..}};
for each the worker writes progress lines {"v":1,"id":..,"type":"progress","done":d,"total":t}
and one {"v":1,"id":..,"type":"result","result":{..}} or {"v":1,..,"type":"error","error":".."}.
The protocol owns the process's stdout: at start the real stdout is kept
for protocol lines and file descriptor 1 is pointed at stderr, so that a
library that prints cannot corrupt the stream.

Which model serves a request depends on the model folder it names:
  - a folder with tive_toy.json: the small text-only torch model of
    toymodel.py (no transformers; used by the tests);
  - anything else: a LLaVA-architecture model (transformers
    LlavaForConditionalGeneration, peft LoRA), see llava.py; transformers
    and peft are imported only then.
Features are computed the same way for both (features() below): one batched
forward and backward pass per batch, per-example LoRA-attention gradients
from the captured factors (pergrad.py), projected with the Go projector's
counter-based hash (projector.py) and written as feature-store shards
(store.py), resumable per shard.
"""

import argparse
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pergrad  # noqa: E402
import projector  # noqa: E402
import store  # noqa: E402

VERSION = 1
OPS = ["train", "features", "predict"]


def load_records(path):
    """LLaVA records: a JSON list, or JSON lines."""
    with open(path) as f:
        text = f.read()
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def load_questions(path):
    qs = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            q = json.loads(line)
            if q.get("question_id") is None:
                raise ValueError('%s:%d: missing "question_id"' % (path, n))
            qs.append(q)
    if not qs:
        raise ValueError("%s: no questions" % path)
    return qs


def write_answers(path, questions, texts, model_id):
    """LLaVA answer file, one line per question; answer_id is the line index."""
    lines = []
    for i, (q, t) in enumerate(zip(questions, texts)):
        a = {"question_id": q["question_id"], "prompt": q.get("text", ""), "text": t, "answer_id": str(i),
             "model_id": model_id or "", "metadata": {}}
        lines.append(json.dumps(a, ensure_ascii=False) + "\n")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    store.atomic_write(path, "".join(lines).encode())


def engine_for(model_dir):
    """The model family serving model_dir (imported lazily)."""
    if os.path.exists(os.path.join(model_dir, "tive_toy.json")):
        import toymodel

        return toymodel
    import llava

    return llava


def rows(req, n):
    start, end = int(req.get("start", 0)), int(req.get("end", 0)) or n
    size = int(req.get("shard_size", 0))
    if size <= 0:
        raise ValueError("features: shard_size must be positive, got %d" % size)
    if start < 0 or start >= end or end > n:
        raise ValueError("features: rows [%d, %d) are not a range of the %d records of %s" % (start, req.get("end", 0), n, req["records"]))
    return start, end, size


def features(req, progress, device):
    """DESIGN.md section 2 step 3 for rows [start, end) of the records."""
    import torch

    params = req.get("params") or "lora-attn"
    if params != "lora-attn":
        raise ValueError("features: params %r: this worker computes lora-attn gradients only" % params)
    recs = load_records(req["records"])
    start, end, size = rows(req, len(recs))
    eng = engine_for(req["model"])
    model = eng.load(req["model"], device, trainable_lora=True)
    model.module.eval()
    cap = pergrad.Capture(model.module)
    proj, pid = projector.build(req["projector"], cap.shapes, device)
    sw = store.ShardWriter(req["out"], pid, len(recs))
    bs = int(req.get("batch_size") or 8)
    res = {"projector": pid, "records": len(recs), "shards": [], "reused": 0}
    for lo, hi in store.shard_ranges(start, end, size):
        progress(lo - start, end - start)
        res["shards"].append(store.shard_name(lo, hi))
        if sw.done(lo, hi):
            res["reused"] += 1
            continue
        feats, vec = [], {"norms": [], "loss": [], "el2n": []}
        for b0 in range(lo, hi, bs):
            if b0 > lo:
                progress(b0 - start, end - start)  # a line per batch keeps External's IdleTimeout fed
            batch = model.collate(recs[b0:min(hi, b0 + bs)], req.get("image_root", ""))
            model.module.zero_grad(set_to_none=True)
            with cap:
                logits = model.forward(batch)
                loss, el2n, _ = pergrad.response_losses(logits, batch["labels"])
                loss.sum().backward()
            factors = cap.factors()
            sq = torch.zeros(len(loss), dtype=torch.float64, device=loss.device)
            out = torch.zeros(len(loss), pid["dim"], dtype=torch.float32, device=loss.device)
            if proj.kind == "factored":
                out = proj.project_factors(factors)
            at = 0
            for s, x, dy in factors:
                g = pergrad.per_example_grads([(s, x, dy)])[0]
                sq += (g.double() ** 2).sum(1)
                if proj.kind == "rademacher":
                    proj.project_into(out, g, at)
                at += g.shape[1]
            feats.append(out.cpu())
            vec["norms"] += sq.sqrt().tolist()
            vec["loss"] += loss.detach().float().cpu().tolist()
            vec["el2n"] += el2n.detach().float().cpu().tolist()
        sw.write(lo, hi, torch.cat(feats).numpy(), vec)
    progress(end - start, end - start)
    return res


def train(req, progress, device):
    return engine_for(req["model_in"]).train(req, progress, device)


def predict(req, progress, device):
    qs = load_questions(req["questions"])
    if not req.get("answers"):
        raise ValueError("predict: no answers file named")
    eng = engine_for(req["model"])
    model = eng.load(req["model"], device, trainable_lora=False)
    model.module.eval()
    texts = model.generate(qs, req.get("image_root", ""), int(req.get("max_new_tokens") or 32), progress)
    write_answers(req["answers"], qs, texts, req.get("model_id", ""))
    progress(len(qs), len(qs))
    return {"answers": len(qs)}


def serve(inp, out, device="cpu", name="tive-torch"):
    """Answer requests from inp on out until inp ends."""

    def send(msg):
        msg = dict(msg, v=VERSION)
        out.write(json.dumps(msg) + "\n")
        out.flush()

    for line in inp:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except ValueError as e:
            send({"id": "", "type": "error", "error": "malformed request: %s" % e})
            continue
        rid = req.get("id", "")

        def progress(done, total, rid=rid):
            send({"id": rid, "type": "progress", "done": done, "total": total})

        try:
            if req.get("v") != VERSION:
                raise ValueError("protocol version %s is not spoken here (this worker speaks %d)" % (req.get("v"), VERSION))
            op, args = req.get("op"), req.get("args")
            if op == "hello":
                result = {"protocol": VERSION, "worker": name, "ops": OPS}
            elif op in OPS:
                if not args:
                    raise ValueError("%s: no args" % op)
                result = {"train": train, "features": features, "predict": predict}[op](args, progress, device)
            else:
                raise ValueError("unknown op %r (want hello, train, features or predict)" % op)
        except Exception as e:  # every failure is answered; the worker goes on
            traceback.print_exc(file=sys.stderr)
            send({"id": rid, "type": "error", "error": "%s: %s" % (type(e).__name__, e)})
            continue
        send({"id": rid, "type": "result", "result": result})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    a = ap.parse_args()
    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    device = a.device
    if device is None:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    serve(sys.stdin, proto, device)


if __name__ == "__main__":
    main()
