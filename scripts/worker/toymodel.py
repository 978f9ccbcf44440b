"""A small text-only causal LM with PEFT-shaped LoRA adapters, in plain torch.

It stands in for a LLaVA model where transformers and peft are not installed:
the tests drive train, features and predict through the protocol with it.
Its attention projections q_proj, k_proj, v_proj, o_proj are LoRALinear
modules laid out like peft's LoraLayer (lora_A / lora_B ModuleDicts keyed by
adapter name, scaling = alpha / r, dropout on the adapter input), so
pergrad.Capture finds them as it finds peft's. Images are ignored.

A model folder holds tive_toy.json (config, vocabulary, LoRA config) and
model.pt (the state dict). Tokenisation is word-level over the vocabulary:
    [<s>] USER: <human words> ASSISTANT: [<response words> </s>] ...
with the loss on the response words and </s> only.
"""

import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

import store

SPECIAL = ["<pad>", "<unk>", "<s>", "</s>", "USER:", "ASSISTANT:"]
PAD, UNK, BOS, EOS, USER, ASSISTANT = range(len(SPECIAL))


class LoRALinear(nn.Module):
    """y = x W^T + b (+ lora_B(lora_A(dropout(x))) * scaling when adapted)."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.base_layer = nn.Linear(n_in, n_out)
        self.lora_A, self.lora_B = nn.ModuleDict(), nn.ModuleDict()
        self.lora_dropout = nn.ModuleDict()
        self.scaling = {}

    def attach(self, r, alpha, dropout, name="default"):
        self.lora_A[name] = nn.Linear(self.base_layer.in_features, r, bias=False)
        self.lora_B[name] = nn.Linear(r, self.base_layer.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A[name].weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B[name].weight)
        self.lora_dropout[name] = nn.Dropout(dropout)
        self.scaling[name] = alpha / r

    def forward(self, x):
        y = self.base_layer(x)
        for k in self.lora_A:
            y = y + self.lora_B[k](self.lora_A[k](self.lora_dropout[k](x))) * self.scaling[k]
        return y


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj, self.o_proj = (LoRALinear(d, d) for _ in range(4))

    def forward(self, x, mask):
        b, t, d = x.shape
        h = self.heads

        def split(y):
            return y.view(b, t, h, d // h).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(d // h)
        att = att.masked_fill(~mask[:, None], float("-inf")).softmax(-1)
        return self.o_proj((att @ v).transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.self_attn = Attention(d, heads)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x, mask):
        x = x + self.self_attn(self.ln1(x), mask)
        return x + self.mlp(self.ln2(x))


class ToyLM(nn.Module):
    def __init__(self, vocab, width, heads, layers, max_len):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.pos = nn.Embedding(max_len, width)
        self.layers = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab, bias=False)

    def forward(self, ids, attn):
        """ids, attn [B, T] (right padding) -> logits [B, T, V]."""
        t = ids.shape[1]
        x = self.embed(ids) + self.pos(torch.arange(t, device=ids.device))[None]
        causal = torch.ones(t, t, dtype=torch.bool, device=ids.device).tril()
        mask = causal[None] & attn[:, None, :].bool()
        mask = mask | torch.eye(t, dtype=torch.bool, device=ids.device)[None]  # padded rows attend to themselves
        for blk in self.layers:
            x = blk(x, mask)
        return self.head(self.norm(x))


def create(dir, words, width=16, heads=2, layers=2, max_len=64, seed=0):
    """Write a freshly initialised toy model over vocabulary `words` to dir."""
    torch.manual_seed(seed)
    cfg = {"width": width, "heads": heads, "layers": layers, "max_len": max_len, "vocab": list(words), "lora": None}
    m = ToyLM(len(SPECIAL) + len(words), width, heads, layers, max_len)
    save(dir, m, cfg)


def save(dir, module, cfg, meta=None):
    os.makedirs(dir, exist_ok=True)
    import io

    buf = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in module.state_dict().items()}, buf)
    store.atomic_write(os.path.join(dir, "model.pt"), buf.getvalue())
    c = dict(cfg, meta=meta)
    store.atomic_write(os.path.join(dir, "tive_toy.json"), (json.dumps(c, indent=2) + "\n").encode())


class Loaded:
    """A loaded toy model: module, config, and the worker's model interface
    (collate, forward, generate)."""

    def __init__(self, module, cfg, device):
        self.module, self.cfg, self.device = module, cfg, device
        self.index = {w: i + len(SPECIAL) for i, w in enumerate(cfg["vocab"])}
        self.index.update({"USER:": USER, "ASSISTANT:": ASSISTANT})
        self.words = SPECIAL + list(cfg["vocab"])

    def words_of(self, text):
        return [self.index.get(w, UNK) for w in text.replace("<image>", " ").split()]

    def encode(self, rec):
        ids, labels = [BOS], [-100]
        for turn in rec["conversations"]:
            if turn["from"] == "human":
                seg = [USER] + self.words_of(turn["value"]) + [ASSISTANT]
                ids += seg
                labels += [-100] * len(seg)
            else:
                seg = self.words_of(turn["value"]) + [EOS]
                ids += seg
                labels += seg
        n = self.cfg["max_len"]
        return ids[:n], labels[:n]

    def collate(self, recs, image_root):
        enc = [self.encode(r) for r in recs]
        t = max(len(i) for i, _ in enc)
        ids = torch.full((len(enc), t), PAD, dtype=torch.long)
        labels = torch.full((len(enc), t), -100, dtype=torch.long)
        attn = torch.zeros((len(enc), t), dtype=torch.long)
        for e, (i, l) in enumerate(enc):
            ids[e, :len(i)] = torch.tensor(i)
            labels[e, :len(l)] = torch.tensor(l)
            attn[e, :len(i)] = 1
        return {"ids": ids.to(self.device), "attn": attn.to(self.device), "labels": labels.to(self.device)}

    def forward(self, batch):
        return self.module(batch["ids"], batch["attn"])

    def generate(self, questions, image_root, max_new, progress):
        out = []
        for k, q in enumerate(questions):
            progress(k, len(questions))
            ids = [BOS, USER] + self.words_of(q.get("text", "")) + [ASSISTANT]
            gen = []
            with torch.no_grad():
                while len(gen) < max_new and len(ids) < self.cfg["max_len"]:
                    x = torch.tensor([ids], device=self.device)
                    z = self.module(x, torch.ones_like(x))[0, -1]
                    z[[PAD, UNK, BOS, USER, ASSISTANT]] = float("-inf")
                    nxt = int(z.argmax())
                    if nxt == EOS:
                        break
                    gen.append(nxt)
                    ids.append(nxt)
            out.append(" ".join(self.words[i] for i in gen))
        return out


def load(dir, device, trainable_lora=False):
    with open(os.path.join(dir, "tive_toy.json")) as f:
        cfg = json.load(f)
    m = ToyLM(len(SPECIAL) + len(cfg["vocab"]), cfg["width"], cfg["heads"], cfg["layers"], cfg["max_len"])
    if cfg.get("lora"):
        attach(m, cfg["lora"])
    m.load_state_dict(torch.load(os.path.join(dir, "model.pt")))
    m.to(device)
    for n, p in m.named_parameters():
        p.requires_grad_(trainable_lora and "lora_" in n)
    return Loaded(m, cfg, device)


def attach(module, lora):
    for blk in module.layers:
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            getattr(blk.self_attn, name).attach(int(lora["rank"]), float(lora["alpha"]), float(lora.get("dropout", 0)))


def train(req, progress, device):
    """LoRA fine-tuning (when req has lora; else of the adapters already
    there, or of every parameter when there are none): AdamW, cosine schedule
    with linear warm-up, response-token loss, data order from the seed."""
    import tive_worker

    seed = int(req.get("seed", 0))
    torch.manual_seed(seed)
    model = load(req["model_in"], device)
    cfg = dict(model.cfg)
    if req.get("lora"):
        if cfg.get("lora"):
            raise ValueError("train: %s already has LoRA adapters" % req["model_in"])
        attach(model.module, req["lora"])
        cfg["lora"] = req["lora"]
        model.module.to(device)
    for n, p in model.module.named_parameters():
        p.requires_grad_(not cfg.get("lora") or "lora_" in n)
    tc = req.get("train") or {}
    epochs, bs, lr = int(tc.get("epochs") or 1), int(tc.get("batch_size") or 32), float(tc.get("lr") or 2e-3)
    recs = tive_worker.load_records(req["records"])
    steps_per = (len(recs) + bs - 1) // bs
    total = steps_per * epochs
    warm = math.ceil(total * float(tc.get("warmup_ratio") or 0.03))
    params = [p for p in model.module.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=float(tc.get("weight_decay") or 0))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, total - warm))))
    g = torch.Generator().manual_seed(seed)
    model.module.train()
    losses = []
    for ep in range(epochs):
        perm = torch.randperm(len(recs), generator=g).tolist()
        for k in range(steps_per):
            batch = model.collate([recs[i] for i in perm[k * bs:(k + 1) * bs]], req.get("image_root", ""))
            logits = model.forward(batch)
            z, y = logits[:, :-1], batch["labels"][:, 1:]
            loss = F.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, float(tc.get("max_grad_norm") or 1))
            opt.step()
            sched.step()
            losses.append(float(loss))
            progress(len(losses), total)
    save(req["model_out"], model.module, cfg, req.get("meta"))
    return {"steps": total, "resumed": 0, "losses": losses}
