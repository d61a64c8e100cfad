#!/usr/bin/python3
"""Write the golden files of tests/goldens/tiny/ from the float64 reference on weights/tiny.

For each sequence NAME:
  NAME.seq.json            the input, SEQ.json format (00-design.md §6)
  NAME.forward.safetensors "logits" F32 [L, maxV]: row i = the routed expert's logits at position i,
                           zero-padded to maxV = the wider of the two heads; "widths" I32 [L]: each
                           row's real width; __metadata__ "experts": the routing string "SSV…"
  NAME.generate.json       {"max_text", "max_action", "text_ids", "action_ids"} (00-design.md §5)

Run from the repository root:  /usr/bin/python3 tests/reference/make_goldens.py
Warns when any greedy step's top-2 margin is below 1e-3 (the engine only promises identical ids
above that margin); the seeds below were chosen so that it does not.
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ellsa_ref  # noqa: E402
import safetensors_io  # noqa: E402

MARGIN_FLOOR = 1e-3
# Emu3 tokenisation of the image header "1*25*25" (01-model.md §6).
IMAGE_HEADER = [16, 9, 17, 20, 9, 17, 20]


class SeqBuilder:
    """Builds a segment list, merging consecutive ids into one segment."""

    def __init__(self, tokens, rng, hidden):
        self.t, self.rng, self.hidden = tokens, rng, hidden
        self.segments = []

    def ids(self, *values):
        flat = []
        for v in values:
            flat.extend(v if isinstance(v, (list, tuple)) else [v])
        if self.segments and "ids" in self.segments[-1]:
            self.segments[-1]["ids"].extend(int(x) for x in flat)
        else:
            self.segments.append({"ids": [int(x) for x in flat]})
        return self

    def audio(self, n):
        # Spliced audio rows: N(0,1)*0.5 in float32. Each value is written as the exact decimal
        # of its float64 widening, so float32 and float64 parsers both recover it bit-exactly.
        rows = (self.rng.standard_normal((n, self.hidden)) * 0.5).astype(np.float32)
        self.segments.append({"embeddings": [[float(v) for v in r] for r in rows]})
        return self

    # --- pieces of the interleaved layout (01-model.md §6), with the tiny model's ids
    def prompt(self, n):
        return self.ids(self.t["bop"], self.text_ids(n), self.t["eop"])

    def text_ids(self, n):
        # Plain text ids below every special id of the tiny speech vocabulary.
        return [int(x) for x in self.rng.integers(0, 300, n)]

    def action_ids(self, n):
        return [int(x) for x in self.rng.integers(self.t["action_first"], self.t["action_last"] + 1, n)]

    def frame(self, codes):
        t = self.t
        c = [t["visual_base"] + int(x) for x in self.rng.integers(0, t["visual_count"], codes)]
        return self.ids(t["boi"], IMAGE_HEADER, t["img"], c, t["eof"], t["eoi"])

    def listen(self):
        """bos, 5 spliced audio rows, speech_eos."""
        return self.ids(self.t["bos"]).audio(5).ids(self.t["speech_eos"])

    def actions(self, n):
        return self.ids(self.t["boa"], self.action_ids(n), self.t["eoa"])


def seq_speech_block(b):
    t = b.t
    b.prompt(5)
    # Past block: listened, stayed silent, dummy action chunk.
    b.listen().ids(t["boi"], t["eoi"], t["bot"], t["silence"], t["eot"]).actions(6)
    # Current block, ending in bot.
    b.listen().ids(t["boi"], t["eoi"], t["bot"])
    return 9, 40


def seq_acting_block(b):
    t = b.t
    b.prompt(6)
    # Past block collapsed out of the image window: audio and text only.
    b.listen().ids(t["bot"], b.text_ids(3), t["eot"])
    # Window block: two frames (16 codes each instead of 625), spoken text, an action chunk.
    b.listen().frame(16).frame(16).ids(t["bot"], b.text_ids(4), t["eot"]).actions(8)
    # Current block.
    b.listen().frame(16).frame(16).ids(t["bot"])
    return 40, 40


def seq_spliced_audio(b):
    t = b.t
    b.audio(3)                                   # before any marker: speech
    b.prompt(3)
    b.ids(t["bos"]).audio(5).ids(t["speech_eos"])
    b.ids(t["boi"]).audio(4).ids(t["eoi"])       # right after boi: vision
    b.ids(t["bot"], b.text_ids(2)).audio(2).ids(t["eot"])   # inside a text slot: speech
    b.ids(t["boa"]).audio(2).ids(b.action_ids(2), t["eoa"])  # inside an action slot: vision
    b.listen().ids(t["boi"], t["eoi"], t["bot"])
    return 40, 40


def seq_prompt_only(b):
    # No routing marker at all: every position is speech. Small caps, chosen (with the seed) so
    # both loops run to their cap without meeting eot / eoa.
    b.ids(b.text_ids(12))
    return 4, 4


def seq_long_context(b):
    t = b.t
    b.prompt(8)
    for k in range(6):
        b.listen().frame(12)
        b.ids(t["bot"], b.text_ids(int(b.rng.integers(1, 6))), t["eot"])
        b.actions(int(b.rng.integers(4, 9)))
    b.listen().frame(12).frame(12).ids(t["bot"])
    return 40, 40


def seq_ends_in_vision(b):
    # Unusual input: the last position is vision-routed (an image frame, no bot). Text token 1 is
    # still the SPEECH head applied to that position's final hidden state, which the vision
    # expert's final norm produced (what the authors' generate does).
    t = b.t
    b.prompt(4)
    b.listen().frame(8)
    return 6, 6


# name -> (builder, seed). Seeds picked so no greedy step has a top-2 margin below 1e-3.
SEQUENCES = {
    "speech_block": (seq_speech_block, 101),
    "acting_block": (seq_acting_block, 233),
    "spliced_audio": (seq_spliced_audio, 303),
    "prompt_only": (seq_prompt_only, 405),
    "long_context": (seq_long_context, 202),
    "ends_in_vision": (seq_ends_in_vision, 624),
}


def write_goldens(model, out_dir, names=None, seeds=None):
    os.makedirs(out_dir, exist_ok=True)
    widest = max(model.speech.head.shape[0], model.vision.head.shape[0])
    report = {}
    for name, (fn, seed) in SEQUENCES.items():
        if names and name not in names:
            continue
        seed = (seeds or {}).get(name, seed)
        b = SeqBuilder(model.tokens, np.random.default_rng(seed), model.hidden)
        max_text, max_action = fn(b)
        seq = {"segments": b.segments}
        items = ellsa_ref.parse_segments(seq, model.hidden, where=name)

        experts, rows = ellsa_ref.forward(model, items)
        L = len(rows)
        logits = np.zeros((L, widest), dtype=np.float32)
        widths = np.zeros(L, dtype=np.int32)
        for i, r in enumerate(rows):
            logits[i, :r.shape[0]] = r.numpy()
            widths[i] = r.shape[0]
        text, actions, margins = ellsa_ref.generate(model, items, max_text, max_action)

        with open(os.path.join(out_dir, f"{name}.seq.json"), "w") as f:
            json.dump(seq, f, separators=(",", ":"))
            f.write("\n")
        safetensors_io.write_file(os.path.join(out_dir, f"{name}.forward.safetensors"),
                                  {"logits": logits, "widths": widths}, {"logits": "F32", "widths": "I32"},
                                  {"experts": experts, "model": "weights/tiny",
                                   "generator": "tests/reference/make_goldens.py"})
        with open(os.path.join(out_dir, f"{name}.generate.json"), "w") as f:
            json.dump({"max_text": max_text, "max_action": max_action, "text_ids": text, "action_ids": actions}, f)
            f.write("\n")

        low = [(p, s, m) for p, s, m in margins if m < MARGIN_FLOOR]
        for p, s, m in low:
            print(f"WARNING {name}: {p} step {s} top-2 margin {m:.3g} < {MARGIN_FLOOR}", file=sys.stderr)
        min_margin = min(m for _, _, m in margins)
        report[name] = dict(length=L, experts=experts, text=text, actions=actions, min_margin=min_margin,
                            low=len(low), max_text=max_text, max_action=max_action)
        print(f"{name}: L={L} S={experts.count('S')} V={experts.count('V')} "
              f"text({len(text)}/{max_text})={text} actions({len(actions)}/{max_action})={actions} "
              f"min top-2 margin {min_margin:.4g}")
    return report


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(root, "weights", "tiny"))
    ap.add_argument("--out", default=os.path.join(root, "tests", "goldens", "tiny"))
    ap.add_argument("--only", nargs="*", help="sequence names to (re)write")
    args = ap.parse_args()
    model = ellsa_ref.Model(args.model)
    report = write_goldens(model, args.out, args.only)
    if any(r["low"] for r in report.values()):
        sys.exit(2)


if __name__ == "__main__":
    main()
