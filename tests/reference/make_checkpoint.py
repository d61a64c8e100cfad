#!/usr/bin/python3
"""Generate a random ELLSA-shaped checkpoint directory in the layout of 00-design.md §4.

The weights are random but scaled so activations stay O(1) and logits are well spread (top-2
margins mostly well above the 1e-3 the engine's parity promise needs). Every option that
changes how tensors are *stored* (dtype, sharding, merged vs unmerged LoRA, alias spellings)
leaves the underlying random values unchanged for a given seed, so two checkpoints made with
the same seed and different storage options describe the same model (up to dtype rounding).

Example (the committed tiny model): see tests/reference/make_tiny.sh.
"""

import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

S_PEFT, S_MERGED = "speech_expert.model.base_model.model.", "speech_expert.model."
V_PEFT, V_MERGED = "vision_expert.model.base_model.model.", "vision_expert.model."

DEFAULT_TOKENS = {
    "bos": 128000, "speech_eos": 128009, "bot": 128259, "eot": 128260, "silence": 128261,
    "bop": 128262, "eop": 128263, "boa": 151844, "eoa": 151845, "boi": 151852, "eoi": 151853,
    "img": 151851, "eof": 151847, "visual_base": 151854, "visual_count": 32768,
    "action_first": 149594, "action_last": 151642, "fast_base": 151642,
}

# Output-scale gain of a projection: std = GAIN / sqrt(fan_in), i.e. 0.02*sqrt(4096/d) when
# fan_in = d (the Llama init rescaled to a small width). With RMS-normed inputs this keeps
# q/k/v, MLP and logits at a standard deviation of about GAIN.
GAIN = 1.28


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output model directory")
    ap.add_argument("--seed", type=int, default=0)
    g = ap.add_argument_group("shared geometry (both experts)")
    g.add_argument("--hidden", type=int, default=64)
    g.add_argument("--layers", type=int, default=2)
    g.add_argument("--heads", type=int, default=4)
    g.add_argument("--kv-heads", type=int, default=2)
    g.add_argument("--head-dim", type=int, default=None, help="explicit head_dim (written to both configs)")
    g.add_argument("--max-position-embeddings", type=int, default=8192)
    g = ap.add_argument_group("speech expert (config.json)")
    g.add_argument("--speech-intermediate", type=int, default=160)
    g.add_argument("--speech-eps", type=float, default=1e-5)
    g.add_argument("--speech-rope-theta", type=float, default=500000.0)
    g.add_argument("--speech-rope-scaling", choices=["llama3", "none"], default="llama3")
    g.add_argument("--rope-factor", type=float, default=8.0)
    g.add_argument("--rope-low-freq-factor", type=float, default=1.0)
    g.add_argument("--rope-high-freq-factor", type=float, default=4.0)
    g.add_argument("--rope-original-max-pos", type=int, default=64)
    g.add_argument("--speech-vocab", type=int, default=310, help="V0: original embedding/head rows")
    g.add_argument("--speech-extra", type=int, default=7, help="E: additional rows (ids V0..V0+E-1)")
    g.add_argument("--speech-qkv-bias", action="store_true", help="give the speech expert q/k/v biases too")
    g = ap.add_argument_group("vision expert (vision_config.json)")
    g.add_argument("--vision-intermediate", type=int, default=192)
    g.add_argument("--vision-eps", type=float, default=1e-6)
    g.add_argument("--vision-rope-theta", type=float, default=1000000.0)
    g.add_argument("--vision-qkv-bias", dest="vision_qkv_bias", action="store_true", default=True)
    g.add_argument("--no-vision-qkv-bias", dest="vision_qkv_bias", action="store_false")
    g.add_argument("--vision-vocab", type=int, default=800)
    g = ap.add_argument_group("LoRA on q/k/v of both experts")
    g.add_argument("--lora", choices=["unmerged", "merged", "none"], default="unmerged",
                   help="unmerged: PEFT names with base_layer + lora_A/B; merged: W + (alpha/r)BA stored as "
                        "plain q_proj.weight, and the merged alias spellings for embed/head/prefixes")
    g.add_argument("--lora-r", type=int, default=8)
    g.add_argument("--lora-alpha", type=float, default=16.0)
    g = ap.add_argument_group("storage")
    g.add_argument("--dtype", default="bf16", choices=["bf16", "f16", "f32", "f64", "mixed"],
                   help="storage dtype of every tensor (mixed: a random one of bf16/f16/f32 per tensor)")
    g.add_argument("--dtype-override", action="append", default=[], metavar="SUFFIX=DTYPE",
                   help="store tensors whose name ends with SUFFIX as DTYPE (repeatable; each must match)")
    g.add_argument("--shards", type=int, default=1, help="1: model.safetensors; N>1: index + N shards")
    g = ap.add_argument_group("tokens and stop-branch coverage")
    g.add_argument("--tokens", default=None,
                   help="JSON object written as ellsa.json 'tokens' (small vocabularies need their own ids)")
    g.add_argument("--boost", type=float, default=1.0,
                   help="multiply the head rows of eot, silence (speech) and eoa (vision) by this factor "
                        "so random models actually emit them")
    return ap.parse_args(argv)


class Builder:
    """Draws tensors in one fixed order from one RNG, so storage options never change values."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def normal(self, shape, std):
        return self.rng.standard_normal(shape) * std

    def proj(self, out_dim, in_dim):
        return self.normal((out_dim, in_dim), GAIN / math.sqrt(in_dim))

    def norm(self, d):
        return 1.0 + self.normal((d,), 0.1)


def build_expert(b, a, kind, vocab, extra, ff, qkv_bias, lora):
    """Random float64 weights of one expert as a dict role -> array (role names are storage-neutral)."""
    d, H, KV = a.hidden, a.heads, a.kv_heads
    hd = a.head_dim or d // H
    w = {}
    emb_std = 0.02 * math.sqrt(4096.0 / d)
    w["embed"] = b.normal((vocab, d), emb_std)
    if extra:
        w["embed_extra"] = b.normal((extra, d), emb_std)
    for n in range(a.layers):
        p = f"layers.{n}."
        w[p + "input_layernorm"] = b.norm(d)
        w[p + "post_attention_layernorm"] = b.norm(d)
        for name, out in (("q", H * hd), ("k", KV * hd), ("v", KV * hd)):
            w[p + name] = b.proj(out, d)
            if qkv_bias:
                w[p + name + ".bias"] = b.normal((out,), 0.3)
            if lora:
                r = a.lora_r
                # A like a projection from d; B sized so (alpha/r)·B·A is about 30% of W: merging
                # must visibly matter (PEFT initialises B to zero; a trained adapter is not zero).
                std_a = 1.0 / math.sqrt(d)
                std_b = 0.3 * (GAIN / math.sqrt(d)) / ((a.lora_alpha / r) * math.sqrt(r) * std_a)
                w[p + name + ".lora_A"] = b.normal((r, d), std_a)
                w[p + name + ".lora_B"] = b.normal((out, r), std_b)
        w[p + "o"] = b.proj(d, H * hd)
        w[p + "gate"] = b.proj(ff, d)
        w[p + "up"] = b.proj(ff, d)
        w[p + "down"] = b.proj(d, ff)
    w["norm"] = b.norm(d)
    w["head"] = b.proj(vocab, d)
    if extra:
        w["head_extra"] = b.proj(extra, d)
    return w


def boost_rows(w, ids, factor, label):
    """Scale head rows (ids index the concatenated head: original rows then extra rows)."""
    v0 = w["head"].shape[0]
    total = v0 + (w["head_extra"].shape[0] if "head_extra" in w else 0)
    for i in ids:
        if not 0 <= i < total:
            raise SystemExit(f"--boost: token id {i} outside the {label} head ({total} rows)")
        if i < v0:
            w["head"][i] *= factor
        else:
            w["head_extra"][i - v0] *= factor


def storage_names(kind, role, lora_mode):
    """Tensor name(s) for a role. Returns a list, since merged spellings fuse split tensors."""
    merged = lora_mode == "merged"
    if kind == "S":
        pre, body = (S_MERGED if merged else S_PEFT), "model."
    else:
        pre, body = (V_MERGED if merged else V_PEFT), ""
    if role == "embed":
        if kind == "V":
            return pre + "embed_tokens.weight"
        return pre + ("model.embed_tokens.weight" if merged else "model.embed_tokens.original_embedding.weight")
    if role == "embed_extra":
        return pre + "model.embed_tokens.additional_embedding"
    if role == "head":
        if kind == "V":
            return "vision_expert.lm_head.weight"
        return pre + ("lm_head.weight" if merged else "lm_head.original_linear.weight")
    if role == "head_extra":
        return pre + "lm_head.new_linear.weight"
    if role == "norm":
        return pre + body + "norm.weight"
    layer, _, rest = role.partition(".")[2].partition(".")
    lp = pre + body + f"layers.{layer}."
    if rest in ("input_layernorm", "post_attention_layernorm"):
        return lp + rest + ".weight"
    if rest in ("gate", "up", "down"):
        return lp + f"mlp.{rest}_proj.weight"
    if rest == "o":
        return lp + "self_attn.o_proj.weight"
    proj, _, suffix = rest.partition(".")
    base = lp + f"self_attn.{proj}_proj."
    if suffix == "":
        return base + ("weight" if merged or lora_mode == "none" else "base_layer.weight")
    if suffix == "bias":
        return base + ("bias" if merged or lora_mode == "none" else "base_layer.bias")
    return base + f"{suffix}.default.weight"


def main(argv=None):
    a = parse_args(argv)
    d, H = a.hidden, a.heads
    hd = a.head_dim or d // H
    if H % a.kv_heads:
        raise SystemExit("--heads must be a multiple of --kv-heads")
    tokens_given = json.loads(a.tokens) if a.tokens else {}
    tokens = dict(DEFAULT_TOKENS, **tokens_given)
    use_lora = a.lora != "none"

    b = Builder(a.seed)
    speech = build_expert(b, a, "S", a.speech_vocab, a.speech_extra, a.speech_intermediate,
                          a.speech_qkv_bias, use_lora)
    vision = build_expert(b, a, "V", a.vision_vocab, 0, a.vision_intermediate, a.vision_qkv_bias, use_lora)
    if a.boost != 1.0:
        boost_rows(speech, [tokens["eot"], tokens["silence"]], a.boost, "speech")
        boost_rows(vision, [tokens["eoa"]], a.boost, "vision")

    # Storage dtype per role, decided before any merge so values are rounded exactly once per
    # stored tensor (what a bf16 export of these fp64 values would hold).
    dtype_rng = np.random.default_rng(a.seed + 7919)
    overrides = []
    for spec in a.dtype_override:
        suffix, _, dt = spec.rpartition("=")
        overrides.append([suffix, safetensors_io.canonical_dtype(dt), False])

    def pick_dtype(name):
        for o in overrides:
            if name.endswith(o[0]):
                o[2] = True
                return o[1]
        if a.dtype == "mixed":
            return ["BF16", "F16", "F32"][int(dtype_rng.integers(3))]
        return safetensors_io.canonical_dtype(a.dtype)

    tensors, dtypes = {}, {}
    scale = a.lora_alpha / a.lora_r
    for kind, w in (("S", speech), ("V", vision)):
        # Name every role in the unmerged spelling first: that is where dtypes are decided, so
        # that merged and unmerged files made from one seed agree on the base values.
        rounded = {}
        for role, arr in w.items():
            dt = pick_dtype(storage_names(kind, role, "unmerged" if use_lora else "none"))
            rounded[role] = (safetensors_io.round_to_dtype(arr, dt), dt)
        if a.lora == "merged":
            for role in list(rounded):
                if role.endswith(".lora_A"):
                    base = role[:-len(".lora_A")]
                    A, _ = rounded.pop(role)
                    B, _ = rounded.pop(base + ".lora_B")
                    W, dt = rounded[base]
                    rounded[base] = (safetensors_io.round_to_dtype(W + scale * (B @ A), dt), dt)
            # Merged spelling: one plain table for embedding and head, extra rows appended.
            for role, extra in (("embed", "embed_extra"), ("head", "head_extra")):
                if extra in rounded:
                    X, _ = rounded.pop(extra)
                    W, dt = rounded[role]
                    rounded[role] = (safetensors_io.round_to_dtype(np.concatenate([W, X]), dt), dt)
        for role, (arr, dt) in rounded.items():
            name = storage_names(kind, role, a.lora)
            tensors[name] = arr
            dtypes[name] = dt
    unmatched = [o[0] for o in overrides if not o[2]]
    if unmatched:
        raise SystemExit(f"--dtype-override matched no tensor: {unmatched}")

    os.makedirs(a.out, exist_ok=True)
    common = {
        "hidden_size": d, "num_hidden_layers": a.layers, "num_attention_heads": H,
        "num_key_value_heads": a.kv_heads, "max_position_embeddings": a.max_position_embeddings,
        "hidden_act": "silu", "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    }
    if a.head_dim:
        common["head_dim"] = a.head_dim
    rope_scaling = None
    if a.speech_rope_scaling == "llama3":
        rope_scaling = {"rope_type": "llama3", "factor": a.rope_factor, "low_freq_factor": a.rope_low_freq_factor,
                        "high_freq_factor": a.rope_high_freq_factor,
                        "original_max_position_embeddings": a.rope_original_max_pos}
    speech_cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", **common,
                  "intermediate_size": a.speech_intermediate, "rms_norm_eps": a.speech_eps,
                  "rope_theta": a.speech_rope_theta, "rope_scaling": rope_scaling,
                  "vocab_size": a.speech_vocab, "attention_bias": bool(a.speech_qkv_bias)}
    vision_cfg = {"architectures": ["Emu3ForCausalLM"], "model_type": "Emu3", **common,
                  "intermediate_size": a.vision_intermediate, "rms_norm_eps": a.vision_eps,
                  "rope_theta": a.vision_rope_theta, "rope_scaling": None,
                  "vocab_size": a.vision_vocab, "qkv_bias": bool(a.vision_qkv_bias)}
    # ellsa.json also carries codec sections added by hand later: keep every other key of an
    # existing file and rewrite only the two sections this generator owns.
    ellsa_path = os.path.join(a.out, "ellsa.json")
    ellsa = {}
    if os.path.exists(ellsa_path):
        with open(ellsa_path) as f:
            ellsa = json.load(f)
    ellsa.pop("tokens", None)
    ellsa.pop("lora", None)
    if tokens_given:
        ellsa["tokens"] = tokens_given
    if a.lora == "unmerged":
        ellsa["lora"] = {"r": a.lora_r, "alpha": a.lora_alpha}
    for fname, obj in (("config.json", speech_cfg), ("vision_config.json", vision_cfg), ("ellsa.json", ellsa)):
        with open(os.path.join(a.out, fname), "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
    files = safetensors_io.write_model_dir(a.out, tensors, dtypes, shards=a.shards,
                                           metadata={"generator": "tests/reference/make_checkpoint.py",
                                                     "seed": str(a.seed)})
    nbytes = sum(os.path.getsize(os.path.join(a.out, f)) for f in files)
    print(f"wrote {a.out}: {len(tensors)} tensors, {nbytes} bytes in {len(files)} files")


if __name__ == "__main__":
    main()
