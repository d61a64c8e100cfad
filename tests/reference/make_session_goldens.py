#!/usr/bin/python3
"""Multi-block duplex sessions on weights/tiny, run the way the authors' evaluation wrapper runs
them (reference/RoboVLMs/eval/libero/model_wrapper_emu.py, 02-protocol.md §1.3/§1.4): every block
rebuilds its whole sequence from the text history, the image window and the action queue, and
decodes it from scratch with the float64 reference (ellsa_ref.generate). Writes, per session NAME:

  tests/goldens/sessions/NAME.session.json   the engine's SESSION.json input (no prompt_ids: the
                                              engine must encode the prompt itself)
  tests/goldens/sessions/NAME.expected.json  {"mode", "context_limit", "prompt_ids", "noop_action_ids",
                                              "blocks": [{"text_ids", "action_ids", "trimmed",
                                              "history_blocks", "sequence_length"}]}

The one thing the wrapper does not have is a context limit. The engine's rule is mirrored here:
when a block's sequence plus its decode budget (max_text + max_action) exceeds the limit, the
oldest history blocks are dropped until it fits in 3/4 of the limit (never the prompt; when
acting, never the window block). Run from the repository root:

  /usr/bin/python3 tests/reference/make_session_goldens.py
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ellsa_ref  # noqa: E402
import fast_bpe  # noqa: E402
import fast_codec_ref  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = os.path.join(ROOT, "weights", "tiny")
OUT = os.path.join(ROOT, "tests", "goldens", "sessions")
IMAGE_HEADER = [16, 9, 17, 20, 9, 17, 20]  # "1*25*25" (01-model.md §6)
CODES_PER_FRAME = 625

PROMPTS = {  # W:117 and W:509
    "speech": "Please answer the question.",
    "act": "Please answer by action or text following the speech instruction.",
}


class WrapperSession:
    """The wrapper's state between blocks: text history (each entry with its last id forced to
    eot), the image window (2 blocks) and the action queue (1 block), plus per-block audio."""

    def __init__(self, model, mode, prompt_ids, noop_ids, limit, max_text, max_action):
        self.model, self.mode, self.t = model, mode, model.tokens
        self.prompt_ids, self.noop_ids = prompt_ids, noop_ids
        self.limit, self.max_text, self.max_action = limit, max_text, max_action
        self.blocks = []  # dicts: audio (5×d float32), images (list of code lists), text, actions

    def _listen(self, items, block):
        items.append(("id", self.t["bos"]))
        for row in block["audio"]:
            items.append(("emb", torch.from_numpy(row.astype(np.float64))))
        items.append(("id", self.t["speech_eos"]))

    def _frames(self, items, block):
        t = self.t
        for codes in block["images"]:
            items += [("id", x) for x in [t["boi"]] + IMAGE_HEADER + [t["img"]]]
            items += [("id", t["visual_base"] + c) for c in codes]
            items += [("id", t["eof"]), ("id", t["eoi"])]

    def sequence(self, history, current):
        """step_onlyspeech (W:751-831) or step_withspeech with generate_text (W:507-616)."""
        t = self.t
        items = [("id", x) for x in self.prompt_ids]
        if self.mode == "speech":
            for block in history:
                self._listen(items, block)
                items += [("id", t["boi"]), ("id", t["eoi"])]
                items += [("id", t["bot"])] + [("id", x) for x in block["text"]]
                items += [("id", x) for x in self.noop_ids]
            self._listen(items, current)
            items += [("id", t["boi"]), ("id", t["eoi"])]
        else:
            # Blocks that left the image window keep only audio and text (W:521-535) ...
            for block in history[:-1]:
                self._listen(items, block)
                items += [("id", t["bot"])] + [("id", x) for x in block["text"]]
            # ... the window block keeps its two frames, its text and its actions (W:563-606).
            if history:
                window = history[-1]
                self._listen(items, window)
                self._frames(items, window)
                items += [("id", t["bot"])] + [("id", x) for x in window["text"]]
                items += [("id", x) for x in window["actions"]]
            self._listen(items, current)
            self._frames(items, current)
        items.append(("id", t["bot"]))
        return items

    def step(self, current):
        budget = self.max_text + self.max_action
        history = self.blocks
        needed = len(self.sequence(history, current)) + budget
        trimmed = False
        if needed > self.limit:
            keep = 1 if self.mode == "act" else 0
            while needed > self.limit * 3 // 4 and len(history) > keep:
                history.pop(0)
                trimmed = True
                needed = len(self.sequence(history, current)) + budget
            assert needed <= self.limit, "context limit too small for one block"
        items = self.sequence(history, current)
        text, actions, margins = ellsa_ref.generate(self.model, items, self.max_text, self.max_action)
        low = [m for m in margins if m[2] < 1e-3]
        # The history keeps the text with its last id forced to eot (W:658-661, 874-877); when
        # acting, the action ids verbatim (W:677). Speech dialogue discards the generated actions.
        current["text"] = text[:-1] + [self.t["eot"]]
        current["actions"] = actions if self.mode == "act" else self.noop_ids
        history.append(current)
        return {
            "text_ids": text,
            "action_ids": actions if self.mode == "act" else self.noop_ids,
            "trimmed": trimmed,
            "history_blocks": len(history) - 1,
            "sequence_length": len(items),
        }, low


def run(name, mode, blocks, seed, limit):
    model = ellsa_ref.Model(TINY)
    t = model.tokens
    with open(os.path.join(TINY, "ellsa.json")) as f:
        fast_cfg = json.load(f)["fast"]
    with open(os.path.join(TINY, fast_cfg["norm_stats"])) as f:
        stats = json.load(f)["norm_stats"][fast_cfg["norm_key"]]
    codec = fast_codec_ref.FastCodec(os.path.join(TINY, fast_cfg["assets"]), norm_stats=stats)
    noop_fast = codec.encode(codec.noop_normalized())
    noop_ids = [t["boa"]] + [t["fast_base"] - b for b in noop_fast] + [t["eoa"]]
    text_tokenizer = fast_bpe.Tokenizer(os.path.join(TINY, "tokenizer.json"))
    prompt_ids = [t["bop"]] + text_tokenizer.encode(PROMPTS[mode]) + [t["eop"]]
    max_text, max_action = (9, 40) if mode == "speech" else (40, 40)

    rng = np.random.default_rng(seed)
    session = WrapperSession(model, mode, prompt_ids, noop_ids, limit, max_text, max_action)
    inputs, expected, low = [], [], 0
    for n in range(blocks):
        audio = (rng.standard_normal((5, model.hidden)) * 0.5).astype(np.float32)
        images = [] if mode == "speech" else \
            [[int(c) for c in rng.integers(0, t["visual_count"], CODES_PER_FRAME)] for _ in range(2)]
        block_input = {"audio_embeddings": [[float(v) for v in row] for row in audio]}
        if images:
            block_input["images"] = images
        inputs.append(block_input)
        result, lows = session.step({"audio": audio, "images": images})
        low += len(lows)
        expected.append(result)
        print(f"{name} block {n}: seq {result['sequence_length']} history {result['history_blocks']} "
              f"trimmed {result['trimmed']} text {result['text_ids']} actions {len(result['action_ids'])}")

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, f"{name}.session.json"), "w") as f:
        json.dump({"mode": mode, "blocks": inputs}, f, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(OUT, f"{name}.expected.json"), "w") as f:
        json.dump({"mode": mode, "seed": seed, "context_limit": limit, "prompt_ids": prompt_ids, "noop_action_ids": noop_ids,
                   "max_text": max_text, "max_action": max_action, "blocks": expected}, f)
        f.write("\n")

    silent = sum(1 for b in expected if b["text_ids"][0] == t["silence"])
    speaking = sum(1 for b in expected if any(x not in (t["silence"], t["eot"]) for x in b["text_ids"]))
    trims = sum(1 for b in expected if b["trimmed"])
    print(f"{name}: {silent} silent blocks, {speaking} speaking blocks, {trims} trims, {low} near-ties (<1e-3)")
    return silent, speaking, trims, low


def main():
    # Seeds are searched from the first one until the session has silent and speaking blocks, a
    # trim, and no greedy choice closer than 1e-3 (where the engine promises identical ids); the
    # seed found is recorded in the expected file, so a rerun finds the same one.
    for name, mode, blocks, seed, limit in [
        ("speech_14", "speech", 14, 31, 200),
        ("act_12", "act", 12, 47, 2800),
    ]:
        for attempt in range(seed, seed + 40):
            silent, speaking, trims, low = run(name, mode, blocks, attempt, limit)
            if silent > 0 and speaking > 0 and trims > 0 and low == 0:
                print(f"{name}: seed {attempt}")
                break
        else:
            print(f"{name}: no suitable seed in 40 tries", file=sys.stderr)
            sys.exit(2)


if __name__ == "__main__":
    main()
