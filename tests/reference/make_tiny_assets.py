#!/usr/bin/python3
"""Write the tiny codec assets of weights/tiny (deterministic for a given seed):

  weights/tiny/fast/tokenizer.json, processor_config.json
      a byte-level BPE of the FAST kind: 256 byte symbols + 64 merges (vocab 320, matching the tiny
      model's action range 370..690 with fast_base 690), trained by a plain greedy pair-count BPE
      on FAST strings of random smooth normalised chunks; scale 10, min_token -354,
      time_horizon/action_dim null. Merges are written as ["a", "b"] pairs (newer HF layout).
  weights/tiny/norm_stats.json
      {"norm_stats": {"tiny": {q01, q99, mean, std}}} from synthetic env-unit actions; the last
      (gripper) dim is -1/+1.
  weights/tiny/tokenizer.json
      a Llama-3-shaped tokenizer: Split(Llama-3 regex, Isolated) + ByteLevel(use_regex false),
      ignore_merges true, ids 0..255 the byte symbols, 256..299 44 merges trained on the English
      text below, specials 300..309. Merges are written as "a b" strings (Llama-3 layout).

Run from the repository root:  /usr/bin/python3 tests/reference/make_tiny_assets.py
"""

import argparse
import collections
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fast_bpe  # noqa: E402
import fast_codec_ref  # noqa: E402

ENGLISH = """\
The robot listens while it looks at the table. When the person asks it to pick up the red cup,
it says "Sure, I'm on it" and moves its arm. If the person says stop, the robot stops the action
and answers that the action was cancelled. It can talk and act at the same time: the speech goes
out while the gripper opens and closes. Please put the bowl on the plate, then open the drawer.
What's on the table? There are three cups, two bowls and one plate. The cups are red, blue and
green. I'll put the green cup in the basket. They've asked the robot 12 questions in 2024, and it
answered 11 of them. We're testing the model in the kitchen scene; the camera sees the stove,
the sink and the cabinet. Turn on the stove and put the moka pot on it. Then wait for the water.
"""

SPECIALS = ["<|begin_of_text|>", "<|eot_id|>", "[PAD]", "<bosp>", "<eosp>", "<bot>", "<eot>",
            "<silence>", "<bop>", "<eop>"]


def byte_symbols():
    """The 256 byte-level symbols in code-point order, as HF's trainer lays out its alphabet."""
    return sorted(fast_bpe.BYTE_TO_CHAR.values())


def train_bpe(words, merges_wanted):
    """Greedy pair-count BPE over {word(tuple of symbols): count}: merge the most frequent pair
    (ties: the smallest pair of strings), skipping pairs whose concatenation is already a token."""
    vocab = {s: i for i, s in enumerate(byte_symbols())}
    words = {tuple(w): c for w, c in words.items()}
    merges = []
    while len(merges) < merges_wanted:
        counts = collections.Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                counts[(a, b)] += c
        candidates = [(-n, p) for p, n in counts.items() if n >= 2 and p[0] + p[1] not in vocab]
        if not candidates:
            raise SystemExit("training text too small for %d merges" % merges_wanted)
        _, (a, b) = min(candidates)
        merges.append((a, b))
        vocab[a + b] = len(vocab)
        merged = {}
        for w, c in words.items():
            out, k = [], 0
            while k < len(w):
                if k + 1 < len(w) and w[k] == a and w[k + 1] == b:
                    out.append(a + b)
                    k += 2
                else:
                    out.append(w[k])
                    k += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + c
        words = merged
    return vocab, merges


def word_counts(texts, split):
    counts = collections.Counter()
    for text in texts:
        for piece in split(text):
            counts[tuple(fast_bpe.BYTE_TO_CHAR[b] for b in piece.encode("utf-8"))] += 1
    return counts


def model_section(vocab, merges, ignore_merges, merges_as_pairs):
    return {
        "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
        "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
        "ignore_merges": ignore_merges, "vocab": vocab,
        "merges": [list(m) if merges_as_pairs else "%s %s" % m for m in merges],
    }


def byte_level(add_prefix_space, use_regex):
    return {"type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": True,
            "use_regex": use_regex}


def fast_assets(rng, out_dir, merges_wanted, chunks, scale, min_token):
    texts = [fast_codec_ref.fast_string(c, scale, min_token)
             for c in fast_codec_ref.smooth_chunks(rng, chunks)]
    vocab, merges = train_bpe(word_counts(texts, fast_bpe.split_gpt2), merges_wanted)
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
        "normalizer": None, "pre_tokenizer": byte_level(False, True),
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                           "use_regex": True},
        "decoder": byte_level(True, True),
        "model": model_section(vocab, merges, ignore_merges=False, merges_as_pairs=True),
    }
    processor = {"action_dim": None, "min_token": min_token,
                 "processor_class": "UniversalActionProcessor", "scale": scale,
                 "time_horizon": None, "vocab_size": len(vocab)}
    os.makedirs(out_dir, exist_ok=True)
    write_json(os.path.join(out_dir, "tokenizer.json"), tokenizer)
    write_json(os.path.join(out_dir, "processor_config.json"), processor)


def norm_stats(rng, path, steps):
    pos = np.clip(rng.normal(0.05, 0.35, (steps, 3)), -0.95, 0.95)
    rot = rng.normal(0.0, 0.05, (steps, 3)) * np.array([1.0, 1.3, 2.0])
    grip = rng.choice([-1.0, 1.0], (steps, 1), p=[0.55, 0.45])
    env = np.concatenate([pos, rot, grip], axis=1)
    stats = {"mean": env.mean(0), "std": env.std(0), "q01": np.quantile(env, 0.01, axis=0),
             "q99": np.quantile(env, 0.99, axis=0)}
    write_json(path, {"norm_stats": {"tiny": {k: [float(x) for x in v]
                                              for k, v in stats.items()}}})


def text_tokenizer(path, merges_wanted):
    vocab, merges = train_bpe(word_counts([ENGLISH], fast_bpe.split_llama3), merges_wanted)
    first_special = len(vocab)
    added = [{"id": first_special + i, "content": s, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True}
             for i, s in enumerate(SPECIALS)]
    bos = {"SpecialToken": {"id": SPECIALS[0], "type_id": 0}}
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": fast_bpe.LLAMA3_PATTERN},
             "behavior": "Isolated", "invert": False},
            byte_level(False, False)]},
        "post_processor": {"type": "Sequence", "processors": [
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
             "use_regex": True},
            {"type": "TemplateProcessing",
             "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [bos, {"Sequence": {"id": "A", "type_id": 0}}, bos,
                      {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {SPECIALS[0]: {"id": SPECIALS[0], "ids": [first_special],
                                              "tokens": [SPECIALS[0]]}}}]},
        "decoder": byte_level(True, True),
        "model": model_section(vocab, merges, ignore_merges=True, merges_as_pairs=False),
    }
    write_json(path, tokenizer)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="weights/tiny")
    ap.add_argument("--seed", type=int, default=20240612)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    fast_assets(rng, os.path.join(args.out, "fast"), merges_wanted=64, chunks=400, scale=10,
                min_token=-354)
    norm_stats(rng, os.path.join(args.out, "norm_stats.json"), steps=4000)
    text_tokenizer(os.path.join(args.out, "tokenizer.json"), merges_wanted=44)


if __name__ == "__main__":
    main()
