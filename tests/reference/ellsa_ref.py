#!/usr/bin/python3
"""Float64 reference of the ELLSA SA-MoE forward pass and block decode protocol.

Written from the project spec (shared/spec/00-design.md §3-§6, 01-model.md §1-§3, §8), not
from the engine: it is the independent oracle the C# engine's goldens come from.

Deliberate numeric choice: every weight is widened to float64 after reading (whatever its
stored dtype) and all arithmetic is float64, with no bf16 rounding of activations. The
engine (fp32 accumulation over bf16 weights) is compared against this with a tolerance
(1e-3 relative L2 on logits, identical greedy ids where the top-2 margin exceeds 1e-3).

Command line (the engine's JSON contract, 00-design.md §6):
  ellsa_ref.py forward  --model DIR --input SEQ.json --output OUT.json
  ellsa_ref.py generate --model DIR --input SEQ.json --output OUT.json [--max-text N] [--max-action N]
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

torch.set_default_dtype(torch.float64)

# Released-model defaults (00-design.md §4); ellsa.json "tokens" overrides any subset.
DEFAULT_TOKENS = {
    "bos": 128000, "speech_eos": 128009, "bot": 128259, "eot": 128260, "silence": 128261,
    "bop": 128262, "eop": 128263, "boa": 151844, "eoa": 151845, "boi": 151852, "eoi": 151853,
    "img": 151851, "eof": 151847, "visual_base": 151854, "visual_count": 32768,
    "action_first": 149594, "action_last": 151642, "fast_base": 151642,
}

SPEECH, VISION = "S", "V"

# Prefix spellings, PEFT-wrapped first (as the authors' state dict has them), then merged.
SPEECH_PREFIXES = ["speech_expert.model.base_model.model.", "speech_expert.model."]
VISION_PREFIXES = ["vision_expert.model.base_model.model.", "vision_expert.model."]


class ModelError(Exception):
    """A problem with the model directory or the input, reported with the offending name."""


# ------------------------------------------------------------------------------------------
# Configuration

def _read_json(path, required=True):
    if not os.path.exists(path):
        if required:
            raise ModelError(f"{path}: file not found")
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ModelError(f"{path}: invalid JSON: {e}") from e


class ExpertConfig:
    """The Llama/Emu3 config keys the forward pass needs, with HF defaults where a key is absent."""

    def __init__(self, cfg, path):
        def need(key):
            if cfg.get(key) is None:
                raise ModelError(f"{path}: missing field '{key}'")
            return cfg[key]

        self.path = path
        self.hidden = int(need("hidden_size"))
        self.intermediate = int(need("intermediate_size"))
        self.layers = int(need("num_hidden_layers"))
        self.heads = int(need("num_attention_heads"))
        self.kv_heads = int(cfg.get("num_key_value_heads") or self.heads)
        self.head_dim = int(cfg.get("head_dim") or self.hidden // self.heads)
        self.eps = float(cfg.get("rms_norm_eps", 1e-6))
        self.rope_theta = float(cfg.get("rope_theta", 10000.0))
        self.rope_scaling = cfg.get("rope_scaling")
        self.vocab_size = cfg.get("vocab_size")
        # Emu3 spells it qkv_bias; a Llama config spells it attention_bias.
        self.qkv_bias = bool(cfg.get("qkv_bias", False) or cfg.get("attention_bias", False))
        if self.heads % self.kv_heads:
            raise ModelError(f"{path}: num_attention_heads {self.heads} not a multiple of "
                             f"num_key_value_heads {self.kv_heads}")
        if self.head_dim % 2:
            raise ModelError(f"{path}: head_dim {self.head_dim} must be even for RoPE")


def rope_inverse_frequencies(head_dim, theta, rope_scaling):
    """Per-pair inverse frequencies, float64.

    rope_scaling None (or rope_type "default") = plain RoPE theta^(-2i/d). "llama3" applies the
    Llama-3.1 wavelength-dependent rescale exactly as HF transformers' _compute_llama3_parameters:
    short wavelengths kept, long ones divided by `factor`, a linear blend in between.
    """
    inv = 1.0 / (theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    if not rope_scaling:
        return inv
    kind = rope_scaling.get("rope_type", rope_scaling.get("type"))
    if kind in (None, "default"):
        return inv
    if kind != "llama3":
        raise ModelError(f"rope_scaling type {kind!r} is not supported (only null or llama3)")
    try:
        factor = float(rope_scaling["factor"])
        low = float(rope_scaling["low_freq_factor"])
        high = float(rope_scaling["high_freq_factor"])
        old_ctx = float(rope_scaling["original_max_position_embeddings"])
    except KeyError as e:
        raise ModelError(f"rope_scaling llama3: missing field {e}") from e
    wavelen = 2.0 * math.pi / inv
    low_wavelen, high_wavelen = old_ctx / low, old_ctx / high
    out = np.empty_like(inv)
    for i, (f, w) in enumerate(zip(inv, wavelen)):
        if w < high_wavelen:
            out[i] = f
        elif w > low_wavelen:
            out[i] = f / factor
        else:
            s = (old_ctx / w - low) / (high - low)
            out[i] = (1.0 - s) * f / factor + s * f
    return out


# ------------------------------------------------------------------------------------------
# Weights

class TensorPool:
    """Name lookup with aliases; remembers what was used so leftovers can be reported."""

    def __init__(self, tensors):
        self.tensors = tensors
        self.used = set()
        self.missing = []
        self.aliases = []

    def get(self, candidates, required=True):
        for i, name in enumerate(candidates):
            if name in self.tensors:
                self.used.add(name)
                if i > 0:
                    self.aliases.append(name)
                return torch.from_numpy(np.asarray(self.tensors[name], dtype=np.float64).copy())
        if required:
            self.missing.append(" | ".join(candidates))
        return None

    def unused(self):
        return sorted(set(self.tensors) - self.used)


def _names(prefixes, rel):
    return [p + rel for p in prefixes]


class Expert:
    """One expert's weights, all float64, LoRA already merged."""

    def __init__(self, kind, cfg):
        self.kind = kind
        self.cfg = cfg
        self.inv_freq = torch.from_numpy(rope_inverse_frequencies(cfg.head_dim, cfg.rope_theta, cfg.rope_scaling))


def _check_shape(t, shape, what):
    if t is not None and tuple(t.shape) != tuple(shape):
        raise ModelError(f"tensor {what}: shape {list(t.shape)}, expected {list(shape)}")


def _load_projection(pool, prefixes, rel, out_dim, in_dim, lora_scale, want_bias):
    """Weight (+ merged LoRA) and optional bias of one linear layer named `rel` (e.g. ...q_proj)."""
    w = pool.get(_names(prefixes, rel + ".base_layer.weight") + _names(prefixes, rel + ".weight"))
    _check_shape(w, (out_dim, in_dim), rel + ".weight")
    a = pool.get(_names(prefixes, rel + ".lora_A.default.weight") + _names(prefixes, rel + ".lora_A.weight"),
                 required=False)
    b = pool.get(_names(prefixes, rel + ".lora_B.default.weight") + _names(prefixes, rel + ".lora_B.weight"),
                 required=False)
    if (a is None) != (b is None):
        raise ModelError(f"{rel}: lora_A and lora_B must both be present or both absent")
    if a is not None and w is not None:
        r = a.shape[0]
        _check_shape(a, (r, in_dim), rel + ".lora_A")
        _check_shape(b, (out_dim, r), rel + ".lora_B")
        # Merge in float64, like the engine merges at load time (00-design.md §3).
        w = w + lora_scale(r, rel) * (b @ a)
    bias = None
    if want_bias:
        bias = pool.get(_names(prefixes, rel + ".base_layer.bias") + _names(prefixes, rel + ".bias"))
        _check_shape(bias, (out_dim,), rel + ".bias")
    return w, bias


class Model:
    """An ELLSA model directory loaded in float64."""

    def __init__(self, model_dir, verbose=False):
        self.dir = model_dir
        scfg = ExpertConfig(_read_json(os.path.join(model_dir, "config.json")), os.path.join(model_dir, "config.json"))
        vpath = os.path.join(model_dir, "vision_config.json")
        vcfg = ExpertConfig(_read_json(vpath), vpath)
        for key in ("hidden", "layers", "heads", "kv_heads", "head_dim"):
            if getattr(scfg, key) != getattr(vcfg, key):
                raise ModelError(f"experts disagree on {key}: config.json {getattr(scfg, key)} vs "
                                 f"vision_config.json {getattr(vcfg, key)} (joint attention needs them equal)")
        ellsa = _read_json(os.path.join(model_dir, "ellsa.json"), required=False) or {}
        self.tokens = dict(DEFAULT_TOKENS)
        self.tokens.update({k: int(v) for k, v in (ellsa.get("tokens") or {}).items()})
        self.lora_cfg = ellsa.get("lora")

        try:
            raw, self.dtypes, _ = safetensors_io.read_model_dir(model_dir)
        except (ValueError, FileNotFoundError) as e:
            raise ModelError(str(e)) from e
        pool = TensorPool(raw)
        self.speech = self._load_expert(pool, SPEECH, scfg)
        self.vision = self._load_expert(pool, VISION, vcfg)
        if pool.missing:
            unused = pool.unused()
            raise ModelError("missing tensors (alternatives separated by |):\n  " + "\n  ".join(pool.missing) +
                             (f"\nunused tensors in the files: {unused}" if unused else ""))
        self.unused = pool.unused()
        self.aliases = pool.aliases
        if self.unused:
            print(f"warning: {len(self.unused)} unused tensors: {self.unused[:10]}", file=sys.stderr)
        if verbose and self.aliases:
            print(f"note: merged/alias spellings used for {len(self.aliases)} tensors", file=sys.stderr)
        self.hidden = scfg.hidden
        self.layers = scfg.layers
        self.heads = scfg.heads
        self.kv_heads = scfg.kv_heads
        self.head_dim = scfg.head_dim

    def _lora_scale(self, r, rel):
        # alpha/r from ellsa.json; without a lora section PEFT's released setting (alpha == r) applies.
        if not self.lora_cfg:
            return 1.0
        r_cfg = int(self.lora_cfg.get("r", r))
        if r_cfg != r:
            raise ModelError(f"{rel}.lora_A has rank {r} but ellsa.json lora.r is {r_cfg}")
        return float(self.lora_cfg.get("alpha", r_cfg)) / r_cfg

    def _load_expert(self, pool, kind, cfg):
        e = Expert(kind, cfg)
        d = cfg.hidden
        if kind == SPEECH:
            pre, body = SPEECH_PREFIXES, "model."
            # The speech table is split in two (HalfFreezeEmbedding): original rows then extra rows.
            emb = pool.get(_names(pre, "model.embed_tokens.original_embedding.weight") +
                           _names(pre, "model.embed_tokens.weight"))
            extra = pool.get(_names(pre, "model.embed_tokens.additional_embedding"), required=False)
            head = pool.get(_names(pre, "lm_head.original_linear.weight") + _names(pre, "lm_head.weight"))
            head_extra = pool.get(_names(pre, "lm_head.new_linear.weight"), required=False)
            norm_name = "model.norm.weight"
        else:
            pre, body = VISION_PREFIXES, ""
            emb = pool.get(_names(pre, "embed_tokens.weight"))
            extra = head_extra = None
            head = pool.get(["vision_expert.lm_head.weight"])
            norm_name = "norm.weight"
        e.v0 = emb.shape[0] if emb is not None else 0
        if extra is not None:
            emb = torch.cat([emb, extra.reshape(-1, d)], 0)
        if head_extra is not None:
            head = torch.cat([head, head_extra], 0)
        if emb is not None and head is not None:
            if emb.shape[1] != d or head.shape[1] != d:
                raise ModelError(f"{kind} expert: embedding/head width {emb.shape[1]}/{head.shape[1]} != hidden {d}")
            if emb.shape[0] != head.shape[0]:
                raise ModelError(f"{kind} expert: embedding has {emb.shape[0]} rows but the head has {head.shape[0]}")
        e.embed, e.head = emb, head
        e.norm = pool.get(_names(pre, norm_name))
        _check_shape(e.norm, (d,), f"{kind} final norm")
        H, KV, hd, ff = cfg.heads, cfg.kv_heads, cfg.head_dim, cfg.intermediate
        e.layers = []
        for n in range(cfg.layers):
            lp = f"{body}layers.{n}."
            L = {}
            L["in_norm"] = pool.get(_names(pre, lp + "input_layernorm.weight"))
            L["post_norm"] = pool.get(_names(pre, lp + "post_attention_layernorm.weight"))
            for t in ("in_norm", "post_norm"):
                _check_shape(L[t], (d,), lp + t)
            for p, out in (("q", H * hd), ("k", KV * hd), ("v", KV * hd)):
                L["w" + p], L["b" + p] = _load_projection(pool, pre, lp + f"self_attn.{p}_proj", out, d,
                                                          self._lora_scale, cfg.qkv_bias)
            L["wo"] = pool.get(_names(pre, lp + "self_attn.o_proj.weight"))
            _check_shape(L["wo"], (d, H * hd), lp + "self_attn.o_proj.weight")
            # Llama's attention_bias also puts a bias on o_proj; use it when the file has one.
            L["bo"] = pool.get(_names(pre, lp + "self_attn.o_proj.bias"), required=False)
            L["wg"] = pool.get(_names(pre, lp + "mlp.gate_proj.weight"))
            L["wu"] = pool.get(_names(pre, lp + "mlp.up_proj.weight"))
            L["wd"] = pool.get(_names(pre, lp + "mlp.down_proj.weight"))
            _check_shape(L["wg"], (ff, d), lp + "mlp.gate_proj.weight")
            _check_shape(L["wu"], (ff, d), lp + "mlp.up_proj.weight")
            _check_shape(L["wd"], (d, ff), lp + "mlp.down_proj.weight")
            e.layers.append(L)
        return e

    def expert(self, kind):
        return self.speech if kind == SPEECH else self.vision

    # --------------------------------------------------------------------------------------
    # Sequences

    def route(self, items):
        """Expert letter per position: most recent marker at or before it (bos/bot -> S,
        boi/boa -> V), S before any marker. Embedding rows never act as markers."""
        t = self.tokens
        to_speech, to_vision = {t["bos"], t["bot"]}, {t["boi"], t["boa"]}
        current, out = SPEECH, []
        for kind, value in items:
            if kind == "id":
                if value in to_speech:
                    current = SPEECH
                elif value in to_vision:
                    current = VISION
            out.append(current)
        return out

    def embed(self, items, experts, start_pos=0):
        """Input rows [n, d]: ids looked up in the routed expert's table, spliced rows as given."""
        rows = []
        for i, ((kind, value), ex) in enumerate(zip(items, experts)):
            if kind == "emb":
                rows.append(value)
                continue
            table = self.expert(ex).embed
            if not 0 <= value < table.shape[0]:
                raise ModelError(f"position {start_pos + i}: id {value} out of range for the "
                                 f"{'speech' if ex == SPEECH else 'vision'} expert (vocab {table.shape[0]})")
            rows.append(table[value])
        return torch.stack(rows, 0)

    def logits(self, kind, y):
        return y @ self.expert(kind).head.T


def parse_segments(seq, hidden, where="input"):
    """SEQ.json segments -> list of ("id", int) / ("emb", float64 row) items."""
    if not isinstance(seq, dict) or not isinstance(seq.get("segments"), list):
        raise ModelError(f"{where}: expected an object with a 'segments' list")
    items = []
    for s, seg in enumerate(seq["segments"]):
        if not isinstance(seg, dict) or len(seg) != 1 or not ({"ids", "embeddings"} & set(seg)):
            raise ModelError(f"{where}: segments[{s}] must have exactly one of 'ids' or 'embeddings'")
        if "ids" in seg:
            for j, v in enumerate(seg["ids"]):
                if not isinstance(v, int) or isinstance(v, bool):
                    raise ModelError(f"{where}: segments[{s}].ids[{j}] is not an integer")
                items.append(("id", v))
        else:
            for j, row in enumerate(seg["embeddings"]):
                if not isinstance(row, list) or len(row) != hidden:
                    raise ModelError(f"{where}: segments[{s}].embeddings[{j}] must be a list of "
                                     f"{hidden} numbers (hidden_size)")
                # The engine reads spliced rows as float32: use exactly those values.
                items.append(("emb", torch.from_numpy(np.asarray(row, dtype=np.float32).astype(np.float64))))
    if not items:
        raise ModelError(f"{where}: the sequence is empty")
    return items


# ------------------------------------------------------------------------------------------
# Forward pass with one shared KV cache

def rms_norm(x, w, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


def apply_rope(x, positions, inv_freq):
    """x [n, heads, hd] at absolute positions [n]; half-split (non-interleaved) rotation."""
    ang = positions[:, None].to(torch.float64) * inv_freq[None, :]
    ang = torch.cat([ang, ang], -1)[:, None, :]
    return x * torch.cos(ang) + rotate_half(x) * torch.sin(ang)


class Decoder:
    """Holds the shared KV cache (post-RoPE keys and values of every position, both experts)."""

    def __init__(self, model):
        self.m = model
        self.k = [torch.zeros(model.kv_heads, 0, model.head_dim) for _ in range(model.layers)]
        self.v = [torch.zeros(model.kv_heads, 0, model.head_dim) for _ in range(model.layers)]
        self.length = 0

    def step(self, x, experts):
        """Run rows x [n, d] (already embedded) routed by `experts` at positions length..length+n-1.
        Appends to the cache and returns the final-normed hidden states [n, d] (each row normed by
        its routed expert's final norm)."""
        m = self.m
        n = x.shape[0]
        H, KV, hd = m.heads, m.kv_heads, m.head_dim
        group = H // KV
        pos = torch.arange(self.length, self.length + n)
        masks = {kind: torch.tensor([e == kind for e in experts]) for kind in (SPEECH, VISION)}
        masks = {kind: mk for kind, mk in masks.items() if mk.any()}
        x = x.clone()
        for li in range(m.layers):
            q = torch.empty(n, H, hd)
            k = torch.empty(n, KV, hd)
            v = torch.empty(n, KV, hd)
            for kind, mk in masks.items():
                ex = m.expert(kind)
                L = ex.layers[li]
                h = rms_norm(x[mk], L["in_norm"], ex.cfg.eps)
                qs, ks, vs = h @ L["wq"].T, h @ L["wk"].T, h @ L["wv"].T
                if L["bq"] is not None:
                    qs, ks, vs = qs + L["bq"], ks + L["bk"], vs + L["bv"]
                # Each expert rotates its own tokens with its own frequencies at the global position.
                q[mk] = apply_rope(qs.view(-1, H, hd), pos[mk], ex.inv_freq)
                k[mk] = apply_rope(ks.view(-1, KV, hd), pos[mk], ex.inv_freq)
                v[mk] = vs.view(-1, KV, hd)
            self.k[li] = torch.cat([self.k[li], k.transpose(0, 1)], 1)
            self.v[li] = torch.cat([self.v[li], v.transpose(0, 1)], 1)
            keys, values = self.k[li], self.v[li]               # [KV, T, hd]
            T = keys.shape[1]
            # Causal over the whole cache: query at absolute position p sees keys 0..p.
            allowed = torch.arange(T)[None, :] <= pos[:, None]  # [n, T]
            attn = torch.empty(n, H, hd)
            for h_ in range(H):
                kv = h_ // group
                s = (q[:, h_, :] @ keys[kv].T) / math.sqrt(hd)
                s = s.masked_fill(~allowed, float("-inf"))
                attn[:, h_, :] = torch.softmax(s, -1) @ values[kv]
            attn = attn.reshape(n, H * hd)
            for kind, mk in masks.items():
                ex = m.expert(kind)
                L = ex.layers[li]
                o = attn[mk] @ L["wo"].T
                if L["bo"] is not None:
                    o = o + L["bo"]
                x[mk] = x[mk] + o
            for kind, mk in masks.items():
                ex = m.expert(kind)
                L = ex.layers[li]
                h = rms_norm(x[mk], L["post_norm"], ex.cfg.eps)
                mlp = (torch.nn.functional.silu(h @ L["wg"].T) * (h @ L["wu"].T)) @ L["wd"].T
                x[mk] = x[mk] + mlp
        self.length += n
        y = torch.empty_like(x)
        for kind, mk in masks.items():
            ex = m.expert(kind)
            y[mk] = rms_norm(x[mk], ex.norm, ex.cfg.eps)
        return y

    def feed_ids(self, ids, kind):
        """Decode step(s) with explicit routing (text -> S, actions -> V)."""
        items = [("id", int(i)) for i in ids]
        experts = [kind] * len(items)
        return self.step(self.m.embed(items, experts, self.length), experts)


def forward(model, segments):
    """Prefill a whole sequence. Returns (experts string, list of float64 logit rows), each row the
    full vocabulary of the position's routed expert head."""
    items = segments if isinstance(segments, list) else parse_segments(segments, model.hidden)
    experts = model.route(items)
    dec = Decoder(model)
    y = dec.step(model.embed(items, experts), experts)
    rows = [model.logits(e, y[i:i + 1])[0] for i, e in enumerate(experts)]
    return "".join(experts), rows


def _argmax(logits, allowed=None):
    """Greedy choice, ties to the lowest id; also the top-2 margin (inf with one candidate)."""
    x = logits.clone()
    if allowed is not None:
        masked = torch.full_like(x, float("-inf"))
        masked[allowed] = x[allowed]
        x = masked
    best = int(torch.argmax(x))      # torch.argmax returns the first maximum
    vals = torch.topk(x, 2).values
    margin = float(vals[0] - vals[1]) if torch.isfinite(vals[1]) else float("inf")
    return best, margin


def generate(model, segments, max_text=40, max_action=40):
    """Block decode protocol, 00-design.md §5. Returns (text_ids, action_ids, margins) where margins
    is a list of (phase, step, top-2 margin) for every greedy choice."""
    items = segments if isinstance(segments, list) else parse_segments(segments, model.hidden)
    t = model.tokens
    experts = model.route(items)
    dec = Decoder(model)
    y = dec.step(model.embed(items, experts), experts)
    margins = []
    # 1. The last position's final hidden state (normed by its routed expert, in practice the
    #    speech expert since blocks end in bot) goes through the SPEECH head, as the authors do.
    tok, mg = _argmax(model.logits(SPEECH, y[-1:])[0])
    margins.append(("text", 0, mg))
    text = [tok]
    # 2. Up to max_text-1 more text tokens; token 1 is not checked for eot.
    for step in range(1, max_text):
        y = dec.feed_ids([text[-1]], SPEECH)
        tok, mg = _argmax(model.logits(SPEECH, y)[0])
        margins.append(("text", step, mg))
        text.append(tok)
        if tok == t["eot"]:
            break
    # 3. The last text token goes through once more; its logits are not used.
    dec.feed_ids([text[-1]], SPEECH)
    # 4. Actions start with a forced boa; greedy over the action id range plus eoa.
    vocab_v = model.vision.head.shape[0]
    lo, hi = t["action_first"], t["action_last"]
    if not (0 <= lo <= hi < vocab_v and 0 <= t["eoa"] < vocab_v):
        raise ModelError(f"action ids [{lo},{hi}] / eoa {t['eoa']} outside the vision vocabulary ({vocab_v})")
    allowed = torch.zeros(vocab_v, dtype=torch.bool)
    allowed[lo:hi + 1] = True
    allowed[t["eoa"]] = True
    actions = [t["boa"]]
    for step in range(1, max_action):
        y = dec.feed_ids([actions[-1]], VISION)
        tok, mg = _argmax(model.logits(VISION, y)[0], allowed)
        margins.append(("action", step, mg))
        actions.append(tok)
        if tok == t["eoa"]:
            break
    return text, actions, margins


# ------------------------------------------------------------------------------------------
# Command line

def _load_seq(path, model):
    seq = _read_json(path)
    return parse_segments(seq, model.hidden, where=path)


def main(argv=None):
    ap = argparse.ArgumentParser(description="ELLSA float64 reference (forward / generate)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("forward", "generate"):
        p = sub.add_parser(name)
        p.add_argument("--model", required=True)
        p.add_argument("--input", required=True)
        p.add_argument("--output", required=True)
        if name == "generate":
            p.add_argument("--max-text", type=int, default=40)
            p.add_argument("--max-action", type=int, default=40)
            p.add_argument("--margins", action="store_true", help="print each step's top-2 margin to stderr")
    args = ap.parse_args(argv)
    try:
        model = Model(args.model)
        items = _load_seq(args.input, model)
        if args.cmd == "forward":
            experts, rows = forward(model, items)
            out = {"experts": experts, "logits": [[float(v) for v in r] for r in rows]}
        else:
            if args.max_text < 1 or args.max_action < 1:
                raise ModelError("--max-text and --max-action must be >= 1")
            text, actions, margins = generate(model, items, args.max_text, args.max_action)
            out = {"text_ids": text, "action_ids": actions}
            if args.margins:
                for phase, step, mg in margins:
                    print(f"{phase} step {step}: top-2 margin {mg:.6g}", file=sys.stderr)
        with open(args.output, "w") as f:
            json.dump(out, f)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
