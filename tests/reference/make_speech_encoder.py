#!/usr/bin/python3
"""Writes a random speech encoder (SPEAR Zipformer2 + projector) model directory: `ellsa.json` holding the
"speech_encoder" section and `speech_encoder.safetensors` with every tensor of the authors' state_dict
under `speech_expert.speechencoder.`, plus `speech_expert.speech_proj.*` and `speech_expert.ln_speech.*`.

  /usr/bin/python3 tests/reference/make_speech_encoder.py small   # tests/goldens/speech/small/model
  /usr/bin/python3 tests/reference/make_speech_encoder.py wide    # tests/goldens/speech/wide/model
  /usr/bin/python3 tests/reference/make_speech_encoder.py tiny    # weights/tiny (+ its ellsa.json section)

The model is built by the authors' code (speech_encoder_reference.build); this file only draws weights.

Random well-conditioned weights (`draw`), so that an fp32 engine can match a float64 reference to 1e-3
(measured by make_speech_goldens.py: THEIR model in float32 vs float64, <= 5.2e-6 relative L2). A Zipformer2 layer has no pre-norm:
its input is the residual stream, every branch adds to it, and the BiasNorm + bypass at the layer's end
bring it back to O(1). So:
* every Linear/1x1 weight ~ N(0, g^2 / fan_in), bias ~ N(0, 0.05^2); g = 1 for projections into a
  branch; out of a branch g = 0.5 (attention, nonlinear attention, ConvNeXt), 1 (feed-forward) and
  1.5 (conv module, whose SwooshR output is small), so each of the 8 branches of a layer adds a
  sizeable part of the stream (measured branch RMS 0.06-2.1, stream RMS 0.73-1.14 after every layer);
* feed-forward in_proj g = 2.5 (and ConvNeXt pointwise_conv1): SwooshL(x) = log(1+e^(x-4)) - 0.08x -
  0.035 is nearly linear and tiny for |x| < 2, so its inputs need a few units of spread to do anything;
* attention in_proj: the query and key rows g = 0.4 and the positional-query rows g = 0.5, linear_pos
  g = 1, so the unscaled scores q.k + p.pos have a standard deviation below 1 (measured 0.5-0.85, max
  |score| 5; no 1/sqrt(d) in their attention, and saturated softmaxes are what makes fp32 drift);
* depthwise convs (causal half-kernel, chunkwise full kernel, ConvNeXt 7x7) ~ N(0, 1 / k), chunkwise_conv_scale
  ~ N(0, 0.2^2) (the chunk-edge scales 1 + left + right matter), the first subsampling conv
  N(0, 0.25^2 / 9) (fbank values are log energies around -16...6);
* BiasNorm log_scale ~ N(0, 0.1^2), bias ~ N(0, 0.1^2); every bypass scale (bypass, bypass_mid,
  out_combiner, and the layer's unused bypass_scale) ~ U(0.5, 1); SimpleDownsample biases ~ N(0, 0.3^2);
* the projector: speech_proj.0 g = sqrt(2) (ReLU follows), speech_proj.2 g = 1; ln_speech weight
  1 + N(0, 0.1^2), bias N(0, 0.1^2) (computed and discarded by the authors); mask_emb ~ N(0, 1) and
  audio_tagging_proj g = 1 (unused).
Storage: the 2-D weights of at least BIG = 2048 elements (Linear weights, encoder_embed.out) in the config's
`big_dtype` (small: F16, wide and tiny: BF16), everything else F32. The float64 reference uses exactly
the stored values.
"""

import argparse
import json
import math
import os
import sys
from collections import OrderedDict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
import speech_encoder_reference as ser  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))

# name -> (ellsa.json "speech_encoder" values, seed, storage of the big 2-D weights, output dir)
CONFIGS = OrderedDict([
    # The release's structure (7 stacks, layers 1,2,3,4,1,1,1, downsampling 1,2,4,8,4,2,1, kernels
    # 31,31,15,15,15,31,31, chunk 8, left context 256, head dims 32/4/12, pos_dim 48) at width 64.
    ("small", (OrderedDict([
        ("encoder_embed", {"layer1_channels": 8, "layer2_channels": 16, "layer3_channels": 32}),
        ("encoder_dim", [64]), ("encoder_unmasked_dim", [48]), ("num_heads", [4]), ("feedforward_dim", [96]),
        ("hidden", 96), ("output_dim", 64)]), 20250201, "F16", "tests/goldens/speech/small/model")),
    # Other widths per stack (the output is pieced together from stacks 6, 5, 4, 3), per-stack heads,
    # head dims, kernels and feed-forward, chunk 16 and left context 72 (= 4 chunks: 64 frames).
    ("wide", (OrderedDict([
        ("encoder_embed", {"layer1_channels": 4, "layer2_channels": 16, "layer3_channels": 24}),
        ("num_encoder_layers", [2, 1, 2, 2, 1, 1, 1]),
        ("encoder_dim", [32, 48, 64, 80, 64, 48, 40]),
        ("encoder_unmasked_dim", [24, 32, 48, 64, 48, 32, 32]),
        ("query_head_dim", [16, 24, 16, 16, 16, 24, 16]),
        ("pos_head_dim", [2]),
        ("value_head_dim", [8, 12, 8, 12, 8, 12, 8]),
        ("pos_dim", 32),
        ("num_heads", [4, 4, 6, 5, 4, 4, 5]),
        ("feedforward_dim", [64, 96, 128, 160, 128, 96, 80]),
        ("cnn_module_kernel", [15, 31, 7, 5, 9, 17, 23]),
        ("chunk_size", 16), ("left_context_frames", 72),
        ("hidden", 160), ("output_dim", 96)]), 20250202, "BF16", "tests/goldens/speech/wide/model")),
    # weights/tiny: small and fast; output_dim = the tiny model's hidden size (weights/tiny/config.json).
    ("tiny", (OrderedDict([
        ("encoder_embed", {"layer1_channels": 4, "layer2_channels": 8, "layer3_channels": 16}),
        ("num_encoder_layers", [1]),
        ("encoder_dim", [32]), ("encoder_unmasked_dim", [32]), ("num_heads", [4]),
        ("query_head_dim", [8]), ("pos_head_dim", [2]), ("value_head_dim", [8]), ("pos_dim", 16),
        ("feedforward_dim", [64]), ("cnn_module_kernel", [7, 7, 5, 5, 5, 7, 7]),
        ("hidden", 64), ("output_dim", None)]), 20250203, "BF16", "weights/tiny")),
])
BIG = 2048


def _gain(name):
    """g of a Linear / 1x1 conv weight ~ N(0, g^2 / fan_in), by the role its name spells."""
    if name.endswith("self_attn_weights.in_proj.weight"):
        return None  # per row block: see draw()
    if ".feed_forward" in name and name.endswith("in_proj.weight") or name.endswith("pointwise_conv1.weight"):
        return 2.5
    if ".conv_module" in name and name.endswith("out_proj.weight"):
        return 1.5
    if ".feed_forward" in name and name.endswith("out_proj.weight"):
        return 1.0
    if name.endswith("out_proj.weight") or name.endswith("pointwise_conv2.weight"):
        return 0.5
    if name.endswith("speech_proj.0.weight"):
        return math.sqrt(2.0)
    return 1.0


def draw(model, seed):
    """checkpoint name -> float64 array, for every tensor of the model's state (see the module doc)."""
    return OrderedDict(draw_each(model, seed))


def draw_each(model, seed):
    """(checkpoint name, float64 array) for every tensor of the model's state, one at a time, in state
    order: the same values as draw(), without holding them all (the release size is 5.5 GB in float64)."""
    rng = np.random.default_rng(seed)
    section = model.section
    for name, p in model.state_names().items():
        shape = tuple(p.shape)
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1

        def normal(std):
            return rng.normal(0.0, std, shape)

        if name.endswith("bypass_scale"):
            a = rng.uniform(0.5, 1.0, shape)
        elif name.endswith("log_scale"):
            a = normal(0.1)
        elif name.endswith("downsample.bias") or name.endswith("downsample_output.bias"):
            a = normal(0.3)
        elif name.endswith("norm.bias"):  # BiasNorm
            a = normal(0.1)
        elif name.endswith("ln_speech.weight"):
            a = 1.0 + normal(0.1)
        elif name.endswith("ln_speech.bias"):
            a = normal(0.1)
        elif name.endswith("mask_emb"):
            a = normal(1.0)
        elif name.endswith("chunkwise_conv_scale"):
            a = normal(0.2)
        elif name.endswith("causal_conv.weight") or name.endswith("chunkwise_conv.weight") or \
                name.endswith("convnext.depthwise_conv.weight"):
            a = normal(1.0 / math.sqrt(fan_in))
        elif name.endswith("encoder_embed.conv.0.weight"):
            a = normal(0.25 / math.sqrt(fan_in))
        elif name.endswith("self_attn_weights.in_proj.weight"):
            a = _attention_in_proj(rng, name, shape, section)
        elif name.endswith(".weight") and len(shape) >= 2:
            a = normal(_gain(name) / math.sqrt(fan_in))
        elif name.endswith(".bias"):
            a = normal(0.05)
        else:
            raise ValueError(f"no initialisation rule for {name} {list(shape)}")
        yield name, a


def _attention_in_proj(rng, name, shape, section):
    """Rows q (heads x query_head_dim) | k (same) | p (heads x pos_head_dim), as their in_proj splits them."""
    stack = int(name.split("encoders.")[1].split(".")[0])
    heads = ser.per_stack(section, "num_heads")[stack]
    qd = ser.per_stack(section, "query_head_dim")[stack] * heads
    rows, fan_in = shape
    g = np.full((rows, 1), 0.4)
    g[2 * qd:] = 0.5
    return rng.normal(0.0, 1.0, shape) * g / math.sqrt(fan_in)


def storage(tensors, big_dtype):
    """checkpoint name -> safetensors dtype: big 2-D weights in big_dtype, the rest F32."""
    return OrderedDict((n, storage_of(n, a, big_dtype)) for n, a in tensors.items())


def storage_of(name, array, big_dtype):
    return big_dtype if array.ndim == 2 and array.size >= BIG and name.endswith(".weight") else "F32"


def section_values(name):
    values, _, _, _ = CONFIGS[name]
    values = OrderedDict(values)
    if values.get("output_dim", 0) is None:
        with open(os.path.join(ROOT, "weights", "tiny", "config.json")) as f:
            values["output_dim"] = json.load(f)["hidden_size"]
    return values


def make(name):
    """(section values, model with the stored weights set (float64), tensors as stored, dtypes)."""
    import torch
    values = section_values(name)
    _, seed, big_dtype, _ = CONFIGS[name]
    model = ser.build(values).to(torch.float64)
    raw = draw(model, seed)
    dtypes = storage(raw, big_dtype)
    tensors = OrderedDict((n, safetensors_io.round_to_dtype(a, dtypes[n])) for n, a in raw.items())
    model.set_weights(tensors)
    return values, model, tensors, dtypes


def write(name, out_dir=None):
    values, model, tensors, dtypes = make(name)
    _, seed, big_dtype, rel = CONFIGS[name]
    out_dir = out_dir or os.path.join(ROOT, rel)
    meta = {"format": "pt", "generator": "tests/reference/make_speech_encoder.py", "config": name,
            "seed": str(seed), **model.authors.provenance()}
    if name == "tiny":
        _write_tiny(out_dir, values, tensors, dtypes, meta)
    else:
        ser.write_model_dir(out_dir, values, tensors, dtypes, meta)
    count = sum(a.size for a in tensors.values())
    size = os.path.getsize(os.path.join(out_dir, "speech_encoder.safetensors"))
    print(f"wrote {out_dir}: {len(tensors)} tensors, {count} parameters, {size / 1e6:.2f} MB "
          f"({sum(d == big_dtype for d in dtypes.values())} in {big_dtype})")
    return model


def _write_tiny(out_dir, values, tensors, dtypes, meta):
    """weights/tiny: speech_encoder.safetensors, and the "speech_encoder" section put into the existing
    ellsa.json (its other sections kept as they are)."""
    safetensors_io.write_file(os.path.join(out_dir, "speech_encoder.safetensors"), tensors, dtypes, meta)
    path = os.path.join(out_dir, "ellsa.json")
    with open(path) as f:
        doc = json.load(f, object_pairs_hook=OrderedDict)
    doc["speech_encoder"] = values
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("config", choices=list(CONFIGS), nargs="+")
    ap.add_argument("--out", default=None, help="output directory (one config only)")
    args = ap.parse_args()
    if args.out and len(args.config) > 1:
        ap.error("--out takes one config")
    for name in args.config:
        write(name, args.out)


if __name__ == "__main__":
    main()
