#!/usr/bin/python3
"""Write random speech decoders (the authors' CosyVoice2 modules + ELLSA's generator_proj) as model directories:
`speech_decoder.safetensors`, `speech_prompt.safetensors` and `ellsa.json` {"speech_decoder": {...}}.

  /usr/bin/python3 tests/reference/make_speech_decoder.py            # small, wide and tiny
  /usr/bin/python3 tests/reference/make_speech_decoder.py small      # tests/goldens/speech_out/small
  /usr/bin/python3 tests/reference/make_speech_decoder.py tiny       # weights/tiny (adds the section to its ellsa.json)

Options: --mirror DIR (bytedance/SALMONN), --diffusers-mirror DIR, --out DIR (one config only).
Bit-identical on every run (numpy's PCG64 with fixed seeds; no torch randomness).

The model is built by speech_decoder_reference.build from the config section below (THEIR classes), so
the tensor names are exactly the state dict of their CosyVoice2Model under `speech_expert.generator.`
(llm.*, flow.*, hift.*; weight norm as parametrizations.weight.original0 = g, original1 = v; the
Qwen2 lm_head is tied and not stored) plus `speech_expert.generator_proj.{0,2,3}.*`. Every name and
shape the model asks for is written, nothing else.

Random values (`draw`), chosen so the float64 reference and a float32 engine agree far below the
tests' 1e-3 (well-conditioned) and the model does non-degenerate things:
* every Linear / Conv weight ~ N(0, gain / fan_in), fan_in = input channels x taps (a ConvTranspose's
  output sample sees in x k / stride taps); gain 1 into a norm or nonlinearity, 2 after ReLU, 0.5 for
  the projections that add into a residual stream (attention out, FFN out, second conv of a residual
  conv pair, HiFT ResBlock convs), so activations stay O(1) through every depth; biases ~ N(0, 0.05^2);
* LayerNorm / RMSNorm weight 1 + N(0, 0.1^2), bias N(0, 0.1^2); rel-pos biases u, v ~ N(0, 0.3^2);
  embeddings (speech tokens, sos/task, flow tokens) N(0, 1); the speaker affine N(0, 1) (its input is
  L2-normalised); Snake alphas U(0.5, 2) (alpha near 0 would divide by ~1e-9);
* weight norm: the effective W is drawn as above, g = ||W|| per output slice (dim 0) times 1 + N(0, 0.05^2),
  and v = W times U(0.5, 2) per slice, so folding g * v / ||v|| really rescales;
* HiFT's F0 head: classifier bias `f0_bias` Hz and weights N(0, (f0_spread / sqrt(C))^2), so |f0| spreads
  around low speech pitches, mostly voiced (> 10 Hz) with a few unvoiced frames; conv_post bias -1 on the
  magnitude channels (exp(-1) ~ 0.37 keeps the iSTFT output mostly inside the +-audio_limit clamp);
* HiFT's source branch: source_downs weights scaled by `source_gain` (0.2). The sine source's phase is a
  running sum over every sample (~5e4 rad after 6 s at 24 kHz for the 9th harmonic), so float32's
  1.6e-7 relative error in f0 drifts it by ~1e-2 rad by the end of a long utterance; at full strength the
  source dominates the waveform and that drift alone costs 1.3e-3 relative L2 between the authors'
  float32 and float64 runs (151 tokens, even with the phase sum in float64). At 0.2 (and f0 around 70 Hz)
  the source still shapes the waveform but the float32 drift stays near 1e-4 (README: margins);
* the speech LM's llm_decoder: weights N(0, 4 / d) (logit spread ~2, so greedy margins are wide) and
  the EOS row's bias raised by `eos_bias`, so greedy decoding meets EOS soon after min_len;
* storage: the value drawn in float64 is rounded to the tensor's storage dtype (per-config rules) and
  that rounded value is what every reference run uses.

The prompt file (`prompt_token` I32 [1, Np], `prompt_feat` [1, Nf, 80], `embedding` [1, spk_embed_dim],
`cfm_noise` [1, 80, N]) is random too, shaped as the release's: tokens uniform in [0, V), features
N(-4, 2^2) (log-mel range), embedding N(0, 1), noise N(0, 1) as torch.randn.
"""

import argparse
import json
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
import speech_decoder_reference as sr  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

MATRIX = r".*(weight|original1)$"

CONFIGS = {
    # The release's structure at small width: 24 kHz, upsample 8/5/3, iSTFT 16/4, 8 harmonics, the
    # 8:25 interleave with the 3.75 quirk, 50/100 chunks, the 8-frame / 3840-sample caches, the
    # release's prompt shapes (84 tokens, 167 frames: the 2N+1 quirk, 192-dim x-vector). Fewer blocks
    # (2 + 4 encoder layers; estimator 1 transformer block per stage, 2 mid stages) keep the files and
    # float64 generation small. Matrices F16, except the two speech-token embeddings (F32).
    "small": {
        "out": "tests/goldens/speech_out/small",
        "seed": 20250301,
        "section": {
            "generator_proj": {"input_size": 96, "hidden_size": 128, "output_size": 64},
            "llm": {"llm_input_size": 64, "llm_output_size": 64, "speech_token_size": 300,
                    "qwen2": {"hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 2,
                              "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 48,
                              "max_position_embeddings": 4096}},
            "flow": {"input_size": 64, "vocab_size": 300,
                     "encoder": {"output_size": 64, "attention_heads": 4, "linear_units": 128, "num_blocks": 2},
                     "decoder": {"estimator": {"channels": [64], "attention_head_dim": 32, "num_heads": 2,
                                               "n_blocks": 1, "num_mid_blocks": 2}}},
            "hift": {"base_channels": 48, "f0_predictor": {"cond_channels": 48}},
        },
        "prompt": {"tokens": 84, "frames": 167, "noise_frames": 640},
        "eos_bias": 3.5, "f0_bias": 60.0, "f0_spread": 60.0, "source_gain": 0.15,
        "dtypes": [(r".*(llm\.speech_embedding|flow\.input_embedding)\.weight$", "F32"), (MATRIX, "F16")],
    },
    # Other rates and widths: 16 kHz with 320 samples per mel frame (upsample 4/4/4, kernels 8/8/8,
    # iSTFT n_fft 20 hop 5), 5 harmonics, 2 ResBlock kernels with other dilations, source ResBlocks
    # 5/7/3, clamp 0.95; a 6:16 interleave with ratio 2.5; input_frame_rate 20 (chunks 40 tokens / 80
    # frames); 6-frame / 1920-sample caches; Qwen2 with 6 heads over 2 kv heads, theta 1e4; an estimator
    # whose attention is wider (4 x 24) than its channels (48), as the release's (8 x 64 over 256); a 96-dim
    # x-vector; a prompt of 47 tokens / 92 frames (2N-2: two prompt-tail frames). Every matrix BF16,
    # HiFT's weight-norm g and the 1-D tensors F32, the speech embedding F16.
    "wide": {
        "out": "tests/goldens/speech_out/wide",
        "seed": 20250302,
        "section": {
            "generator_proj": {"input_size": 128, "hidden_size": 192, "output_size": 96},
            "llm": {"llm_input_size": 96, "llm_output_size": 96, "speech_token_size": 512,
                    "text_chunk": 6, "audio_chunk": 16, "ratio": 2.5,
                    "qwen2": {"hidden_size": 96, "intermediate_size": 192, "num_hidden_layers": 2,
                              "num_attention_heads": 6, "num_key_value_heads": 2, "rms_norm_eps": 1e-5,
                              "rope_theta": 10000.0, "vocab_size": 40, "max_position_embeddings": 4096}},
            "flow": {"input_size": 80, "spk_embed_dim": 96, "vocab_size": 512, "input_frame_rate": 20,
                     "encoder": {"output_size": 80, "attention_heads": 4, "linear_units": 128, "num_blocks": 2,
                                 "static_chunk_size": 40},
                     "decoder": {"estimator": {"channels": [48], "attention_head_dim": 24, "num_heads": 4,
                                               "n_blocks": 1, "num_mid_blocks": 2, "static_chunk_size": 80}}},
            "hift": {"base_channels": 96, "nb_harmonics": 5, "sampling_rate": 16000, "upsample_rates": [4, 4, 4],
                     "upsample_kernel_sizes": [8, 8, 8], "istft_params": {"n_fft": 20, "hop_len": 5},
                     "resblock_kernel_sizes": [3, 5], "resblock_dilation_sizes": [[1, 2], [2, 6]],
                     "source_resblock_kernel_sizes": [5, 7, 3],
                     "source_resblock_dilation_sizes": [[1, 2], [1, 3], [1]], "audio_limit": 0.95,
                     "f0_predictor": {"cond_channels": 48}},
            "streaming": {"mel_cache_len": 6, "source_cache_len": 1920},
        },
        "prompt": {"tokens": 47, "frames": 92, "noise_frames": 512},
        "eos_bias": 4.0, "f0_bias": 70.0, "f0_spread": 45.0, "source_gain": 0.15,
        "dtypes": [(r".*llm\.speech_embedding\.weight$", "F16"), (r".*original0$", "F32"), (MATRIX, "BF16")],
    },
    # weights/tiny: the smallest decoder the duplex session can speak through (input = the tiny
    # model's 64-wide hidden rows), 24 kHz with the release's rates; matrices BF16, noise F16.
    "tiny": {
        "out": "weights/tiny",
        "seed": 20250303,
        "section": {
            "generator_proj": {"input_size": 64, "hidden_size": 64, "output_size": 32},
            "llm": {"llm_input_size": 32, "llm_output_size": 32, "speech_token_size": 96,
                    "qwen2": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                              "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 16,
                              "max_position_embeddings": 8192}},
            "flow": {"input_size": 32, "spk_embed_dim": 32, "vocab_size": 96,
                     "encoder": {"output_size": 32, "attention_heads": 2, "linear_units": 64, "num_blocks": 1},
                     "decoder": {"estimator": {"channels": [32], "attention_head_dim": 16, "num_heads": 2,
                                               "n_blocks": 1, "num_mid_blocks": 1}}},
            "hift": {"base_channels": 32, "resblock_kernel_sizes": [3, 5],
                     "resblock_dilation_sizes": [[1, 3], [1, 3]], "f0_predictor": {"cond_channels": 32}},
        },
        "prompt": {"tokens": 20, "frames": 39, "noise_frames": 3000},
        "eos_bias": 5.0, "f0_bias": 100.0, "f0_spread": 90.0, "source_gain": 0.5,
        "dtypes": [(r".*original0$", "F32"), (MATRIX, "BF16")],
        "prompt_dtypes": {"cfm_noise": "F16"},
    },
}


def section(name):
    return sr.merged(CONFIGS[name]["section"])


def storage_dtype(name, shape, rules):
    if len(shape) < 2:
        return "F32"
    for pattern, dtype in rules:
        if re.fullmatch(pattern, name):
            return dtype
    return "F32"


def _fan_in(local, shape, sd):
    """Input taps of one output sample: Linear in; Conv1d in x k; ConvTranspose1d (HiFT ups) in x k / stride."""
    m = re.match(r"hift\.ups\.(\d+)\.", local)
    if m:
        return shape[0] * shape[2] / sd["hift"]["upsample_rates"][int(m.group(1))]
    return int(np.prod(shape[1:]))


# (pattern on the name inside its module, gain): the projections that add into a residual stream.
RESIDUAL_GAIN = [r".*\.o_proj\.weight", r".*\.down_proj\.weight", r".*\.linear_out\.weight", r".*\.w_2\.weight",
                 r".*pre_lookahead_layer\.conv2\.weight", r".*\.to_out\.0\.weight", r".*\.ff\.net\.2\.weight",
                 r"hift\..*resblocks\.\d+\.convs[12]\.\d+\.parametrizations\.weight\.original[01]",
                 r".*\.mlp\.1\.weight"]


def draw_one(name, shape, sd, cfg, rng):
    """Random float64 values for one checkpoint tensor (see the module docstring); None for a weight-norm g,
    which `split_weight_norm` makes from its v."""
    eos = sd["llm"]["speech_token_size"]
    n_mag = sd["hift"]["istft_params"]["n_fft"] // 2 + 1
    local = name[len(sr.PREFIX_GENERATOR):] if name.startswith(sr.PREFIX_GENERATOR) else "proj." + name[
        len(sr.PREFIX_PROJ):]
    normal = lambda std: rng.standard_normal(shape) * std  # noqa: E731
    if local.endswith("original0"):
        return None
    if re.fullmatch(r".*(norm\w*|norm[13]|out\.1|block\.2|after_norm|layernorm|proj\.3)\.weight", local):
        v = 1 + normal(0.1)
    elif re.fullmatch(r".*(norm\w*|norm[13]|out\.1|block\.2|after_norm|proj\.3)\.bias", local):
        v = normal(0.1)
    elif local == "hift.f0_predictor.classifier.bias":
        v = np.full(shape, cfg["f0_bias"])
    elif local == "hift.f0_predictor.classifier.weight":
        v = normal(cfg["f0_spread"] / np.sqrt(shape[1]))
    elif local == "hift.conv_post.bias":
        v = np.concatenate([-1.0 + rng.standard_normal(n_mag) * 0.1,
                            rng.standard_normal(shape[0] - n_mag) * 0.3])
    elif local == "llm.llm_decoder.bias":
        v = normal(0.5)
        v[eos] += cfg["eos_bias"]
    elif local == "llm.llm_decoder.weight":
        v = normal(2.0 / np.sqrt(shape[1]))
    elif local.endswith(".alpha"):
        v = rng.uniform(0.5, 2.0, shape)
    elif re.fullmatch(r".*pos_bias_[uv]", local):
        v = normal(0.3)
    elif re.fullmatch(r".*(embedding|embed_tokens)\.weight|flow\.spk_embed_affine_layer\.weight|"
                      r"hift\.m_source\.l_linear\.weight", local):
        v = normal(1.0)
    elif local.endswith("bias"):
        v = normal(0.05)
    elif len(shape) >= 2:
        gain = 0.5 if any(re.fullmatch(p, local) for p in RESIDUAL_GAIN) else (
            2.0 if local == "proj.2.weight" else 1.0)
        if re.fullmatch(r"hift\.source_downs\.\d+\.weight", local):
            gain = cfg["source_gain"] ** 2
        v = normal(np.sqrt(gain / _fan_in(local, shape, sd)))
    else:
        raise ValueError(f"no rule for {name} {shape}")
    return v


def split_weight_norm(w, g_shape, rng):
    """(g, v) of an effective weight W drawn under original1's name: g = ||W|| per output slice, v = W rescaled."""
    norms = np.sqrt((w.reshape(w.shape[0], -1) ** 2).sum(axis=1))
    g = (norms * (1 + rng.standard_normal(w.shape[0]) * 0.05)).reshape(g_shape)
    return g, w * rng.uniform(0.5, 2.0, (w.shape[0],) + (1,) * (w.ndim - 1))


def draw(names, sd, cfg, rng):
    """Random float64 values for every checkpoint name (see the module docstring)."""
    out = {}
    pending_g = {}
    for name, (_, _, shape) in names.items():
        v = draw_one(name, shape, sd, cfg, rng)
        if v is None:
            pending_g[name] = shape
            continue
        out[name] = v
    # weight norm: the effective W was drawn under original1's name; split it into g and v.
    for g_name, g_shape in pending_g.items():
        v_name = g_name[:-1] + "1"
        out[g_name], out[v_name] = split_weight_norm(out[v_name], g_shape, rng)
    return {k: out[k] for k in names}


def draw_each(names, sd, cfg, rng):
    """(name, float64 value) one tensor at a time by draw's rules, without holding them all (the release's
    LM is 0.5 G values); a weight-norm pair comes out when its v is drawn, so the RNG order and the values
    differ from draw's."""
    pending_g = {}
    for name, (_, _, shape) in names.items():
        v = draw_one(name, shape, sd, cfg, rng)
        if v is None:
            pending_g[name] = shape
            continue
        g_name = name[:-1] + "0"
        if name.endswith("original1") and g_name in pending_g:
            g, v = split_weight_norm(v, pending_g.pop(g_name), rng)
            yield g_name, g
        yield name, v
    if pending_g:
        raise ValueError(f"weight-norm g without its v: {sorted(pending_g)[:3]}")


def make_prompt(sd, cfg, rng):
    p = cfg["prompt"]
    return {"prompt_token": rng.integers(0, sd["flow"]["vocab_size"], (1, p["tokens"])).astype(np.int32),
            "prompt_feat": -4.0 + 2.0 * rng.standard_normal((1, p["frames"], sd["flow"]["output_size"])),
            "embedding": rng.standard_normal((1, sd["flow"]["spk_embed_dim"])),
            "cfm_noise": rng.standard_normal((1, sd["flow"]["output_size"], p["noise_frames"]))}


def write(name, out_dir, a):
    import torch
    cfg = CONFIGS[name]
    sd = section(name)
    model = sr.build(a, sd, torch.float64)
    names = sr.checkpoint_names(model)
    rng = np.random.default_rng(cfg["seed"])
    values = draw(names, sd, cfg, rng)
    dtypes = {k: storage_dtype(k, np.shape(v), cfg["dtypes"]) for k, v in values.items()}
    prompt = make_prompt(sd, cfg, np.random.default_rng(cfg["seed"] + 1000))
    pdt = {"prompt_token": "I32", "prompt_feat": "F32", "embedding": "F32", "cfm_noise": "F32"}
    pdt.update(cfg.get("prompt_dtypes", {}))
    meta = dict(a.provenance, config=name, seed=str(cfg["seed"]), generator="tests/reference/make_speech_decoder.py")
    os.makedirs(out_dir, exist_ok=True)
    safetensors_io.write_file(os.path.join(out_dir, sd["weights"]), values, dtypes, metadata=meta)
    safetensors_io.write_file(os.path.join(out_dir, sd["prompt"]), prompt, pdt, metadata=meta)
    path = os.path.join(out_dir, "ellsa.json")
    doc = {}
    if os.path.exists(path):
        with open(path) as fh:
            doc = json.load(fh)
    doc["speech_decoder"] = sd
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
    # Reading the files back through the reference proves names, shapes and the config agree.
    sr.load_model_dir(a, out_dir, torch.float64)
    size = sum(os.path.getsize(os.path.join(out_dir, f)) for f in (sd["weights"], sd["prompt"]))
    params = sum(int(np.prod(v.shape)) for v in values.values())
    print(f"{name}: {out_dir}: {len(values)} tensors, {params} values, {size / 1e6:.2f} MB")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("configs", nargs="*", metavar="CONFIG", help=f"any of {list(CONFIGS)} (default: all)")
    ap.add_argument("--mirror")
    ap.add_argument("--diffusers-mirror")
    ap.add_argument("--out")
    args = ap.parse_args()
    names = args.configs or list(CONFIGS)
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        sys.exit(f"error: unknown config {unknown[0]!r} (known: {', '.join(CONFIGS)})")
    if args.out and len(names) != 1:
        sys.exit("error: --out needs exactly one config")
    a = sr.load_authors(args.mirror, args.diffusers_mirror)
    for n in names:
        write(n, args.out or os.path.join(ROOT, CONFIGS[n]["out"]), a)


if __name__ == "__main__":
    main()
