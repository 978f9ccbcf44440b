"""LLaVA-architecture models for the worker: transformers'
LlavaForConditionalGeneration with peft LoRA adapters.

Imported only when a request names a model folder without tive_toy.json, so
the rest of the worker runs without transformers and peft.

Model folders:
  - a Hugging Face LLaVA checkpoint (config.json of model_type "llava", the
    tokenizer, the image processor), e.g. llava-hf/llava-1.5-7b-hf, or a
    stage-1 model converted with transformers' convert_llava_weights_to_hf.py;
  - a folder written by train: the peft adapter (adapter_config.json,
    adapter_model.safetensors; the multi-modal projector is saved with it,
    LLaVA-1.5's finetune_lora trains it) and tive_llava.json naming the base
    checkpoint folder.

Text follows LLaVA-1.5's vicuna_v1 conversation template:
    SYSTEM USER: <image>\\nq1 ASSISTANT: a1</s>USER: q2 ASSISTANT: a2</s>
with the loss on the assistant messages and their </s> only (token offsets
of a fast tokenizer decide which tokens those are). Images are padded to a
square with the image processor's mean colour (LLaVA's "pad" aspect ratio).
transformers before 4.45 expands one <image> token inside the model; later
versions expect as many <image> tokens as the vision tower yields, and the
text is expanded here accordingly.
"""

import json
import math
import os

import torch
import torch.nn.functional as F
import transformers
from peft import LoraConfig, PeftModel, get_peft_model
from PIL import Image
from transformers import AutoImageProcessor, AutoTokenizer, LlavaForConditionalGeneration

import store

SYSTEM = ("A chat between a curious human and an artificial intelligence assistant. "
          "The assistant gives helpful, detailed, and polite answers to the human's questions.")
IMAGE = "<image>"
ATTN = ["q_proj", "k_proj", "v_proj", "o_proj"]
MLP = ["gate_proj", "up_proj", "down_proj"]

# Worker-wide knobs, from the environment (External.Env): the protocol's requests do not carry them.
MICRO_BATCH = int(os.environ.get("TIVE_WORKER_MICRO_BATCH", "4"))
PREDICT_BATCH = int(os.environ.get("TIVE_WORKER_PREDICT_BATCH", "8"))
DTYPE = os.environ.get("TIVE_WORKER_DTYPE", "bfloat16")


def _legacy_image_tokens():
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return (major, minor) < (4, 45)


def _dtype(device):
    return getattr(torch, DTYPE) if str(device).startswith("cuda") else torch.float32


def conversation(turns):
    """(text, [(start, end) character spans of the assistant messages + </s>])."""
    text, spans = SYSTEM + " ", []
    for t in turns:
        if t["from"] == "human":
            text += "USER: " + t["value"] + " "
        else:
            text += "ASSISTANT: "
            s = len(text)
            text += t["value"] + "</s>"
            spans.append((s, len(text)))
    return text, spans


def expand2square(img, color):
    w, h = img.size
    if w == h:
        return img
    side = max(w, h)
    out = Image.new(img.mode, (side, side), color)
    out.paste(img, ((side - w) // 2, (side - h) // 2))
    return out


class Loaded:
    """A loaded LLaVA model with the worker's model interface (collate, forward, generate)."""

    def __init__(self, module, tok, improc, device):
        self.module, self.tok, self.improc, self.device = module, tok, improc, device
        cfg = module.config
        vc = cfg.vision_config
        self.n_image = 1
        if not _legacy_image_tokens():
            self.n_image = (vc.image_size // vc.patch_size) ** 2 + (1 if cfg.vision_feature_select_strategy == "full" else 0)
        if self.tok.pad_token_id is None:
            self.tok.pad_token = self.tok.unk_token

    def pixels(self, path, image_root):
        img = Image.open(os.path.join(image_root, path)).convert("RGB")
        mean = tuple(int(x * 255) for x in getattr(self.improc, "image_mean", [0.5, 0.5, 0.5]))
        return self.improc(expand2square(img, mean), return_tensors="pt")["pixel_values"][0]

    def collate(self, recs, image_root):
        items, pix = [], []
        for r in recs:
            turns = r["conversations"]
            if r.get("image"):
                if not any(IMAGE in t["value"] for t in turns):
                    turns = [dict(turns[0], value=IMAGE + "\n" + turns[0]["value"])] + turns[1:]
                pix.append(self.pixels(r["image"], image_root))
            else:
                turns = [dict(t, value=t["value"].replace(IMAGE, "").strip()) for t in turns]
            text, spans = conversation(_expanded(turns, self.n_image))
            items.append(self.encode(text, spans))
        return self._pad(items, pix, left=False)

    def encode(self, text, spans):
        """Input ids of text and labels: the ids of tokens inside spans, -100 elsewhere."""
        enc = self.tok(text, return_offsets_mapping=True, add_special_tokens=True)
        ids = enc["input_ids"]
        labels = [-100] * len(ids)
        for k, (a, b) in enumerate(enc["offset_mapping"]):
            if b > a and any(s < b <= e for s, e in spans):  # last character inside: tolerates a leading-space offset
                labels[k] = ids[k]
        return ids, labels

    def _pad(self, items, pix, left):
        t = max(len(i) for i, _ in items)
        pad = self.tok.pad_token_id
        ids = torch.full((len(items), t), pad, dtype=torch.long)
        labels = torch.full((len(items), t), -100, dtype=torch.long)
        attn = torch.zeros((len(items), t), dtype=torch.long)
        for e, (i, l) in enumerate(items):
            sl = slice(t - len(i), t) if left else slice(0, len(i))
            ids[e, sl], labels[e, sl], attn[e, sl] = torch.tensor(i), torch.tensor(l), 1
        batch = {"input_ids": ids.to(self.device), "attention_mask": attn.to(self.device), "labels": labels.to(self.device),
                 "pixel_values": None}
        if pix:
            batch["pixel_values"] = torch.stack(pix).to(self.device, _dtype(self.device))
        return batch

    def forward(self, batch):
        return self.module(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                           pixel_values=batch["pixel_values"]).logits

    def generate(self, questions, image_root, max_new, progress):
        out = []
        for b0 in range(0, len(questions), PREDICT_BATCH):
            progress(b0, len(questions))
            items, pix = [], []
            for q in questions[b0:b0 + PREDICT_BATCH]:
                text = q.get("text", "")
                if q.get("image"):
                    if IMAGE not in text:
                        text = IMAGE + "\n" + text
                    pix.append(self.pixels(q["image"], image_root))
                text = text.replace(IMAGE, IMAGE * self.n_image)
                ids = self.tok(SYSTEM + " USER: " + text + " ASSISTANT:", add_special_tokens=True)["input_ids"]
                items.append((ids, [-100] * len(ids)))
            batch = self._pad(items, pix, left=True)
            with torch.inference_mode():
                gen = self.module.generate(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                                           pixel_values=batch["pixel_values"], do_sample=False, num_beams=1,
                                           max_new_tokens=max_new, pad_token_id=self.tok.pad_token_id, use_cache=True)
            new = gen[:, batch["input_ids"].shape[1]:]
            out += [s.strip() for s in self.tok.batch_decode(new, skip_special_tokens=True)]
        return out


def _expanded(turns, n):
    """turns with every image marker repeated n times (the text the model sees)."""
    if n == 1:
        return turns
    return [dict(t, value=t["value"].replace(IMAGE, IMAGE * n)) for t in turns]


def _base_of(dir):
    p = os.path.join(dir, "tive_llava.json")
    if os.path.exists(p):
        with open(p) as f:
            return json.load(f)["base"], True
    return dir, os.path.exists(os.path.join(dir, "adapter_config.json"))


def load(dir, device, trainable_lora=False, lora=None):
    """Load a base checkpoint or a trained adapter folder. With lora (a
    LoRAConfig dict) fresh adapters are attached; with trainable_lora the
    attention adapters require gradients (features) and nothing else does."""
    base, has_adapter = _base_of(dir)
    module = LlavaForConditionalGeneration.from_pretrained(base, torch_dtype=_dtype(device))
    tok = AutoTokenizer.from_pretrained(base, use_fast=True)
    improc = AutoImageProcessor.from_pretrained(base)
    if has_adapter:
        module = PeftModel.from_pretrained(module, dir, is_trainable=trainable_lora)
    elif lora:
        targets = ATTN + (MLP if lora.get("mlp") else [])
        cfg = LoraConfig(r=int(lora["rank"]), lora_alpha=float(lora["alpha"]), lora_dropout=float(lora.get("dropout", 0)),
                         target_modules=r".*language_model.*\.(%s)" % "|".join(targets), modules_to_save=["multi_modal_projector"],
                         bias="none", task_type="CAUSAL_LM")
        module = get_peft_model(module, cfg)
    module.to(device)
    if trainable_lora:
        for n, p in module.named_parameters():
            p.requires_grad_((".lora_A." in n or ".lora_B." in n) and any("." + t + "." in n for t in ATTN))
    return Loaded(module, tok, improc, device)


def train(req, progress, device):
    """LoRA fine-tuning as LLaVA-1.5's finetune_lora (adapters and the
    multi-modal projector train) when the request attaches LoRA or the model
    has adapters; else full fine-tuning (vision tower frozen with
    train.freeze_vision), saved as a standalone checkpoint. Either way:
    AdamW, cosine schedule with linear warm-up (warmup_ratio), global-norm
    clipping, response-token loss averaged over the tokens of each optimizer
    step (batch_size records, in micro-batches of TIVE_WORKER_MICRO_BATCH),
    data order from the seed. With checkpoint_dir, state is saved every
    checkpoint_every steps and a repeat resumes from it."""
    import tive_worker

    seed = int(req.get("seed", 0))
    torch.manual_seed(seed)
    m = load(req["model_in"], device, lora=req.get("lora"))
    tc = req.get("train") or {}
    full = not req.get("lora") and not isinstance(m.module, PeftModel)
    if full:  # full fine-tuning (the built-in world's caption pretraining)
        for n, p in m.module.named_parameters():
            p.requires_grad_(not (tc.get("freeze_vision") and "vision_tower" in n))
    elif not req.get("lora"):
        for n, p in m.module.named_parameters():
            p.requires_grad_("lora_" in n or "modules_to_save" in n)
    epochs, bs, lr = int(tc.get("epochs") or 1), int(tc.get("batch_size") or 32), float(tc.get("lr") or 2e-5)
    recs = tive_worker.load_records(req["records"])
    per = (len(recs) + bs - 1) // bs
    total = per * epochs
    warm = math.ceil(total * float(tc.get("warmup_ratio") or 0.03))
    params = [p for p in m.module.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, betas=(float(tc.get("beta1") or 0.9), float(tc.get("beta2") or 0.999)),
                            eps=float(tc.get("eps") or 1e-8), weight_decay=float(tc.get("weight_decay") or 0))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, total - warm))))
    ckdir, every = req.get("checkpoint_dir"), int(tc.get("checkpoint_every") or 0)
    step, losses = 0, []
    ck = os.path.join(ckdir, "state.pt") if ckdir else None
    if ck and os.path.exists(ck):
        st = torch.load(ck, map_location=device)
        if st["total"] != total:
            raise ValueError("train: %s was written by a run of %d steps, this one has %d" % (ck, st["total"], total))
        for n, p in m.module.named_parameters():
            if n in st["params"]:
                p.data.copy_(st["params"][n])
        opt.load_state_dict(st["opt"])
        sched.load_state_dict(st["sched"])
        step = st["step"]
    resumed = step
    m.module.train()
    maxnorm = float(tc.get("max_grad_norm") or 1)
    while step < total:
        ep, k = divmod(step, per)
        perm = torch.randperm(len(recs), generator=torch.Generator().manual_seed(seed * 1000003 + ep)).tolist()
        idx = perm[k * bs:(k + 1) * bs]
        batches = [m.collate([recs[i] for i in idx[j:j + MICRO_BATCH]], req.get("image_root", "")) for j in range(0, len(idx), MICRO_BATCH)]
        ntok = sum(int((b["labels"][:, 1:] != -100).sum()) for b in batches)
        opt.zero_grad(set_to_none=True)
        tot = 0.0
        for b in batches:
            z = m.forward(b)[:, :-1].float()
            y = b["labels"][:, 1:]
            loss = F.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1), ignore_index=-100, reduction="sum") / max(1, ntok)
            loss.backward()
            tot += float(loss)
        if maxnorm > 0:
            torch.nn.utils.clip_grad_norm_(params, maxnorm)
        opt.step()
        sched.step()
        step += 1
        losses.append(tot)
        progress(step, total)
        if ck and ((every and step % every == 0) or step == total):
            import io

            os.makedirs(ckdir, exist_ok=True)
            buf = io.BytesIO()
            torch.save({"step": step, "total": total, "opt": opt.state_dict(), "sched": sched.state_dict(),
                        "params": {n: p.detach().cpu() for n, p in m.module.named_parameters() if p.requires_grad}}, buf)
            store.atomic_write(ck, buf.getvalue())
    base, _ = _base_of(req["model_in"])
    m.module.save_pretrained(req["model_out"])
    if full:  # a standalone checkpoint: the next request loads it as a base
        m.tok.save_pretrained(req["model_out"])
        m.improc.save_pretrained(req["model_out"])
        if req.get("meta") is not None:
            store.atomic_write(os.path.join(req["model_out"], "tive_meta.json"), (json.dumps(req["meta"], indent=2) + "\n").encode())
        return {"steps": total, "resumed": resumed, "losses": losses}
    store.atomic_write(os.path.join(req["model_out"], "tive_llava.json"),
                       (json.dumps({"base": os.path.abspath(base), "meta": req.get("meta")}, indent=2) + "\n").encode())
    return {"steps": total, "resumed": resumed, "losses": losses}
