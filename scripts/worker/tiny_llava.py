#!/usr/bin/env python3
"""A small LLaVA built from a config, without pretrained weights, for the
built-in world on a GPU machine (a study with `backend: external`) and for
gpu_check.py.

    python3 tiny_llava.py --out DIR --records WORLD/pretrain.json --records WORLD/mixture.json \\
        [--width 64] [--layers 2] [--vision-layers 2] [--image-size 64] [--patch-size 16] [--seed 0]

The folder is a Hugging Face LLaVA checkpoint (LlavaForConditionalGeneration,
a word-level PreTrainedTokenizerFast, a CLIPImageProcessor) that the worker
loads like any other: its vocabulary is the special tokens <unk> <s> </s>
<pad> <image> and every whitespace-separated word of the records'
conversations laid out with the vicuna_v1 template, so no word the worker
writes is unknown. It is randomly initialised (torch seed --seed): train it
with a full fine-tuning request (the pretrain stage) before LoRA.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SPECIALS = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]


def build(dir, record_lists, width=64, layers=2, vision_layers=2, image_size=64, patch_size=16, seed=0):
    """Write the model to dir; returns the vocabulary size."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import (CLIPImageProcessor, CLIPVisionConfig, LlamaConfig, LlavaConfig,
                              LlavaForConditionalGeneration, PreTrainedTokenizerFast)

    import llava

    texts = [llava.SYSTEM + " USER: ASSISTANT:"]
    for recs in record_lists:
        texts += [llava.conversation(r["conversations"])[0] for r in recs]
    words = set()
    for t in texts:
        for s in SPECIALS:
            t = t.replace(s, " ")
        words.update(t.split())
    vocab = {w: i for i, w in enumerate(SPECIALS + sorted(words))}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tk.add_special_tokens(SPECIALS)
    tk.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", vocab["<s>"])])
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="<unk>", bos_token="<s>", eos_token="</s>",
                                  pad_token="<pad>", additional_special_tokens=["<image>"])
    heads = max(1, width // 16)
    vc = CLIPVisionConfig(hidden_size=width // 2, intermediate_size=width, num_hidden_layers=vision_layers,
                          num_attention_heads=max(1, heads // 2), image_size=image_size, patch_size=patch_size,
                          projection_dim=width // 2)
    tc = LlamaConfig(vocab_size=len(vocab), hidden_size=width, intermediate_size=2 * width, num_hidden_layers=layers,
                     num_attention_heads=heads, num_key_value_heads=heads, max_position_embeddings=1024,
                     bos_token_id=vocab["<s>"], eos_token_id=vocab["</s>"], pad_token_id=vocab["<pad>"])
    cfg = LlavaConfig(vision_config=vc, text_config=tc, image_token_index=vocab["<image>"], vision_feature_layer=-2,
                      vision_feature_select_strategy="default")
    cfg.image_seq_length = (image_size // patch_size) ** 2
    cfg.pad_token_id = vocab["<pad>"]
    torch.manual_seed(seed)
    LlavaForConditionalGeneration(cfg).save_pretrained(dir)
    tok.save_pretrained(dir)
    CLIPImageProcessor(size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}).save_pretrained(dir)
    return len(vocab)


def main():
    import tive_worker

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--records", action="append", required=True, help="LLaVA records whose words make the vocabulary (repeatable)")
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--vision-layers", type=int, default=2)
    ap.add_argument("--image-size", type=int, default=64)
    ap.add_argument("--patch-size", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    n = build(a.out, [tive_worker.load_records(p) for p in a.records], a.width, a.layers, a.vision_layers,
              a.image_size, a.patch_size, a.seed)
    print(json.dumps({"out": a.out, "vocab": n}))


if __name__ == "__main__":
    main()
