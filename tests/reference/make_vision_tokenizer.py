#!/usr/bin/python3
"""Write a random Emu3 VisionVQ `vision_tokenizer/` directory (config.json, preprocessor_config.json,
model.safetensors) in the layout of the release BAAI/Emu3-VisionTokenizer, for the configs below.

  /usr/bin/python3 tests/reference/make_vision_tokenizer.py            # both: tiny and wide
  /usr/bin/python3 tests/reference/make_vision_tokenizer.py tiny       # weights/tiny/vision_tokenizer
  /usr/bin/python3 tests/reference/make_vision_tokenizer.py wide       # tests/goldens/vision/wide/vision_tokenizer

Options: --mirror DIR (the authors' repository, default $ELLSA_SALMONN_MIRROR or
/work/.mirror/bytedance+SALMONN/repo), --out DIR (one config only). Bit-identical on every run.

The model is THEIR Emu3VisionVQModel (vision_reference.load_authors), built in float64; the random
values follow vision_reference.random_state (well-conditioned, documented there). Each tensor is
rounded to its storage dtype (F32 by default; the per-config rules below put some in F16/BF16)
before anything is computed from it. The codebook is drawn last from the latent statistics of
calibration frames (synthetic photographs, seeds 900..903, 200x200 through the wrapper pipeline)
and stored F32.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vision_reference as vr  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Matches every convolution weight (not norms, not the codebook).
CONV_WEIGHT = r"(conv\w*|\.q|\.k|\.v|proj_out|nin_shortcut)\.weight$"

CONFIGS = {
    # 4 levels (8x spatial, 200x200 -> 25x25 = 625 codes), everything 32 wide (GroupNorm's 32
    # groups need multiples of 32), 1 res block, attention at level 3 and mid; codebook 64 =
    # weights/tiny's visual_count. Conv weights F16, everything else F32: ~0.8 MB.
    "tiny": {
        "out": "weights/tiny/vision_tokenizer",
        "seed": 20240901,
        "config": {"codebook_size": 64, "embed_dim": 4, "z_channels": 4, "ch": 32, "ch_mult": [1, 1, 1, 1],
                   "num_res_blocks": 1, "attn_resolutions": [3], "temporal_downsample_factor": 4},
        "dtype_rules": [(CONV_WEIGHT, "F16")],
    },
    # 4 levels too (the wrapper's 200x200 must give 25x25); widths 32/32/32/64 (channel changes in
    # encoder and decoder, mid block 64 wide), 2 res blocks (2 in the encoder's time_res_stack,
    # 3 per decoder level), attention at levels 2 (50x50) and 3, z_channels = embed_dim = 8,
    # codebook 256. Storage mixes all three float dtypes: decoder conv weights BF16, encoder
    # level-3 and mid conv weights F16, the rest F32.
    "wide": {
        "out": "tests/goldens/vision/wide/vision_tokenizer",
        "seed": 20240902,
        "config": {"codebook_size": 256, "embed_dim": 8, "z_channels": 8, "ch": 32, "ch_mult": [1, 1, 1, 2],
                   "num_res_blocks": 2, "attn_resolutions": [2, 3], "temporal_downsample_factor": 4},
        "dtype_rules": [(r"^decoder\..*" + CONV_WEIGHT, "BF16"),
                        (r"^encoder\.(down\.3|mid)\..*" + CONV_WEIGHT, "F16")],
    },
}

CALIBRATION_SEEDS = [900, 901, 902, 903]


def calibration_pixels(processor):
    return [vr.wrapper_pixels(processor, vr.synthetic_photo(200, 200, s))[0] for s in CALIBRATION_SEEDS]


def make(name, out=None, mirror=None, quiet=False):
    spec = CONFIGS[name]
    authors = vr.load_authors(mirror)
    cfg_json = vr.config_json(authors, spec["config"])
    pre_json = vr.preprocessor_json(authors)
    vr.check_factor(cfg_json, pre_json)
    model = vr.build_model(authors, cfg_json)
    state = vr.random_state(model, spec["seed"])
    dtypes = vr.storage_dtypes(state, spec["dtype_rules"])
    vr.load_state(model, vr.rounded(state, dtypes))
    processor = vr.make_processor(authors, pre_json)
    final = vr.set_codebook(model, state, dtypes, calibration_pixels(processor), spec["seed"])
    out = os.path.join(ROOT, out or spec["out"])
    meta = {"generator": "tests/reference/make_vision_tokenizer.py", "config_name": name,
            "seed": str(spec["seed"])}
    meta.update(authors.provenance())
    vr.write_tokenizer_dir(out, cfg_json, pre_json, final, dtypes, meta)
    size = os.path.getsize(os.path.join(out, "model.safetensors"))
    if not quiet:
        counts = {}
        for d in dtypes.values():
            counts[d] = counts.get(d, 0) + 1
        print(f"{name}: {out}: {vr.parameter_count(final)} parameters, {len(final)} tensors {counts}, "
              f"model.safetensors {size} bytes")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("configs", nargs="*",
                    help=f"configs to write (default all: {', '.join(CONFIGS)})")
    ap.add_argument("--out", help="output directory (only with one config)")
    ap.add_argument("--mirror", help=f"the authors' repository (default ${vr.MIRROR_ENV} or {vr.MIRROR_DEFAULT})")
    args = ap.parse_args(argv)
    names = args.configs or list(CONFIGS)
    bad = [n for n in names if n not in CONFIGS]
    if bad:
        ap.error(f"unknown config(s) {bad}; known: {list(CONFIGS)}")
    if args.out and len(names) != 1:
        ap.error("--out needs exactly one config")
    import torch
    torch.set_num_threads(2)
    for n in names:
        make(n, args.out, args.mirror)


if __name__ == "__main__":
    main()
