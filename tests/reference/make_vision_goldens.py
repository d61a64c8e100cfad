#!/usr/bin/python3
"""Write the vision goldens of tests/goldens/vision/ (README.md there documents every file).

  /usr/bin/python3 tests/reference/make_vision_tokenizer.py     # first, only if the weights change
  /usr/bin/python3 tests/reference/make_vision_goldens.py       # images, preprocess, tiny, wide

Options: --mirror DIR (the authors' repository; default $ELLSA_SALMONN_MIRROR or
/work/.mirror/bytedance+SALMONN/repo), --only tiny|wide|preprocess|images (repeatable),
--keep-images (do not rewrite the committed images; by default they are regenerated, which is
bit-identical with the same Pillow/libjpeg).

Everything that computes is the authors' code (vision_reference.load_authors): their processor for
the pixels (after the wrapper's PIL resize, model_wrapper_emu.py), their Emu3VisionVQModel.encode for
the codes (float64, weights as stored), their decode for the reconstructions, their smart_resize for
the size table. This script only makes the images, feeds them, and records results plus a few
self-checks (pixels equal the documented formula on the resized uint8 image; codes equal the argmin
of the recomputed distances; margin statistics). Exits 2 when a check fails or more than 5 % of a
case's codes have a relative margin below 1e-3 (notes the cases above 1 %).
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_vision_tokenizer as mvt  # noqa: E402
import safetensors_io as st  # noqa: E402
import vision_reference as vr  # noqa: E402

ROOT = mvt.ROOT
GOLDEN = os.path.join(ROOT, "tests", "goldens", "vision")
IMAGES = os.path.join(GOLDEN, "images")
MARGIN_TOL = 1e-3

# name -> (width, height, seed, PIL mode, format). Same seed = same scene.
IMAGE_SPECS = {
    "photo_200.png": (200, 200, 101, "RGB", "PNG"),
    "photo_200.jpg": (200, 200, 101, "RGB", "JPEG"),
    "libero_256.png": (256, 256, 102, "RGB", "PNG"),
    "landscape_320x240.jpg": (320, 240, 103, "RGB", "JPEG"),
    "portrait_97x211.png": (97, 211, 104, "RGB", "PNG"),
    "gray_150x180.jpg": (150, 180, 105, "L", "JPEG"),
    "rgba_256.png": (256, 256, 106, "RGBA", "PNG"),
    "small_60x50.png": (60, 50, 107, "L", "PNG"),
}
JPEG_QUALITY = 90

# case -> (image, pipeline). "wrapper": file -> PIL .convert("RGB") -> Image.fromarray(..).resize((200, 200))
# -> processor; "direct": the opened file straight into the processor (its convert_to_rgb and smart_resize).
CASES = {
    "photo_200_png": ("photo_200.png", "wrapper"),
    "photo_200_jpg": ("photo_200.jpg", "wrapper"),
    "libero_256_png": ("libero_256.png", "wrapper"),
    "landscape_320x240_jpg": ("landscape_320x240.jpg", "wrapper"),
    "portrait_97x211_png": ("portrait_97x211.png", "wrapper"),
    "gray_150x180_jpg": ("gray_150x180.jpg", "wrapper"),
    "rgba_256_png": ("rgba_256.png", "wrapper"),
    "direct_portrait_97x211_png": ("portrait_97x211.png", "direct"),
    "direct_small_60x50_png": ("small_60x50.png", "direct"),
}
# Cases whose decoder reconstruction is stored (the others only get codes, to keep the size down).
RECONSTRUCT = ["photo_200_png", "direct_portrait_97x211_png"]
# Decoder-only inputs: random codes of these shapes (seeded per config).
DECODE_RANDOM = {"decode_random_7x11": (7, 11), "decode_random_3x5": (3, 5)}

SMART_RESIZE_SIZES = [(200, 200), (256, 256), (240, 320), (211, 97), (208, 96), (50, 60), (60, 52), (44, 36),
                      (20, 100), (100, 20), (20, 101), (8, 8), (7, 100), (100, 7), (10, 51), (12, 12),
                      (36, 180), (84, 84), (100, 100), (204, 204), (212, 212), (228, 228), (300, 1500),
                      (480, 640), (1000, 1000), (1024, 1025), (1080, 1920), (1200, 1600), (2000, 2000),
                      (4000, 3000)]


# ---------------------------------------------------------------- images

def make_images():
    from PIL import Image
    os.makedirs(IMAGES, exist_ok=True)
    for name, (w, h, seed, mode, fmt) in IMAGE_SPECS.items():
        rgb = vr.synthetic_photo(w, h, seed)
        im = Image.fromarray(rgb)
        if mode == "L":
            im = im.convert("L")
        elif mode == "RGBA":
            # Alpha: a diagonal ramp 255 -> 40, with a fully transparent disc; the colour under
            # transparent pixels is kept (PIL's convert("RGB") drops alpha without compositing).
            yy, xx = np.meshgrid(np.arange(h) / h, np.arange(w) / w, indexing="ij")
            alpha = 255 - 215 * (xx + yy) / 2
            alpha[((xx - 0.3) ** 2 + (yy - 0.7) ** 2) < 0.02] = 0
            im = Image.fromarray(np.dstack([rgb, np.round(alpha).astype(np.uint8)]), "RGBA")
        path = os.path.join(IMAGES, name)
        if fmt == "JPEG":
            im.save(path, "JPEG", quality=JPEG_QUALITY)  # default subsampling (4:2:0 for colour)
        else:
            im.save(path, "PNG")


def image_info():
    import PIL
    import PIL.features
    from PIL import Image, JpegImagePlugin
    info = {"pillow": PIL.__version__, "libjpeg": PIL.features.version("jpg"),
            "libjpeg_turbo": bool(PIL.features.check_feature("libjpeg_turbo")),
            "zlib": PIL.features.version("zlib"), "jpeg_quality": JPEG_QUALITY, "images": {}}
    for name in IMAGE_SPECS:
        with Image.open(os.path.join(IMAGES, name)) as im:
            e = {"format": im.format, "mode": im.mode, "width": im.width, "height": im.height,
                 "bytes": os.path.getsize(os.path.join(IMAGES, name))}
            if im.format == "JPEG":
                s = JpegImagePlugin.get_sampling(im)
                e["subsampling"] = {-1: "n/a (one component)", 0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}.get(s, str(s))
                e["components"] = len(im.layer)
            info["images"][name] = e
    return info


# ---------------------------------------------------------------- checks

FAILURES = []
WARNINGS = []
# A case fails when more than this fraction of its codes are near-ties (relative margin < 1e-3).
# Random 4-D latents against a random codebook give about 1-3 % (see README.md); the engine's
# fp32 error flips only margins of about 1e-6, far fewer.
MAX_NEAR_TIES = 0.05


def check(cond, msg):
    if not cond:
        FAILURES.append(msg)
        print("CHECK FAILED:", msg)


def formula_pixels(u8_hwc):
    """The processor's arithmetic on a uint8 image, as documented for the engine:
    float32(float64(u8) * (1/255)), then (v - 0.5f) / 0.5f in float32; channels first."""
    v = (u8_hwc.astype(np.float64) * (1 / 255)).astype(np.float32)
    v = (v - np.float32(0.5)) / np.float32(0.5)
    return v.transpose(2, 0, 1)


# ---------------------------------------------------------------- preprocess goldens

def preprocess_all(authors, processor):
    """pixels per case (config-independent: both configs share one preprocessor_config.json)."""
    from PIL import Image
    out_dir = os.path.join(GOLDEN, "preprocess")
    os.makedirs(out_dir, exist_ok=True)
    pixels = {}
    for case, (image, pipeline) in CASES.items():
        path = os.path.join(IMAGES, image)
        opened = vr.open_image(path)
        if pipeline == "wrapper":
            px, resized = vr.file_to_wrapper_pixels(processor, path)
            rgb_in = np.asarray(resized)
        else:
            px = vr.direct_pixels(processor, path)
            h, w = authors.smart_resize(opened.height, opened.width, factor=processor.spatial_factor,
                                        min_pixels=processor.min_pixels, max_pixels=processor.max_pixels)
            rgb_in = np.asarray(opened.convert("RGB").resize((w, h), resample=processor.resample))
        px = px.numpy()
        check(px.dtype == np.float32 and px.ndim == 4 and px.shape[0] == 1, f"{case}: pixel tensor {px.dtype} {px.shape}")
        px = px[0]
        check(np.array_equal(px, formula_pixels(rgb_in)), f"{case}: processor pixels != documented formula")
        tensors = {"pixels": px}
        if opened.format == "JPEG" or image.endswith(".jpg"):
            dec = np.asarray(opened)
            tensors["decoded"] = dec[..., None] if dec.ndim == 2 else dec
        meta = {"image": f"images/{image}", "pipeline": pipeline, "height": str(px.shape[1]),
                "width": str(px.shape[2]), "source_mode": opened.mode,
                "source_size": f"{opened.width}x{opened.height}"}
        meta.update(authors.provenance())
        st.write_file(os.path.join(out_dir, f"{case}.safetensors"), tensors, {"decoded": "U8"}, meta)
        pixels[case] = px
        print(f"  preprocess {case}: {opened.mode} {opened.width}x{opened.height} -> pixels {list(px.shape)}")
    return pixels


def smart_resize_table(authors):
    rows = []
    for min_pixels, label in ((vr.WRAPPER_MIN_PIXELS, "wrapper"), (vr.RELEASE_PREPROCESSOR["min_pixels"], "release")):
        for h, w in SMART_RESIZE_SIZES:
            row = {"height": h, "width": w, "factor": 8, "min_pixels": min_pixels, "max_pixels": 1024 * 1024,
                   "setting": label}
            try:
                rh, rw = authors.smart_resize(h, w, factor=8, min_pixels=min_pixels, max_pixels=1024 * 1024)
                row.update({"resized_height": rh, "resized_width": rw})
            except ValueError as e:
                row["error"] = str(e)
            rows.append(row)
    with open(os.path.join(GOLDEN, "smart_resize.json"), "w") as f:
        json.dump({"function": "smart_resize (image_processing_emu3visionvq.py), the authors' code",
                   "cases": rows}, f, indent=1)
        f.write("\n")


# ---------------------------------------------------------------- model goldens

def model_goldens(authors, name, tok_dir, pixels):
    model, processor, cfg_json, pre_json, dtypes = vr.load_tokenizer_dir(authors, tok_dir)
    vr.check_factor(cfg_json, pre_json)
    out_dir = os.path.join(GOLDEN, name)
    os.makedirs(out_dir, exist_ok=True)
    for stale in os.listdir(out_dir):  # cases dropped from CASES / DECODE_RANDOM
        if stale.endswith(".safetensors") and stale[:-12] not in CASES and stale[:-12] not in DECODE_RANDOM:
            os.remove(os.path.join(out_dir, stale))
    codebook = model.quantize.embedding.weight.detach().numpy()
    summary = {"config": name, "cases": {}}
    base_meta = {"config": name, "vision_tokenizer": os.path.relpath(tok_dir, ROOT)}
    base_meta.update(authors.provenance())
    for case, px in pixels.items():
        import torch
        r = vr.encode(model, torch.from_numpy(px[None]))
        m = vr.margins(r["latent"], codebook)
        check(np.array_equal(m["argmin"], r["codes"]), f"{name}/{case}: their codes != argmin of the distances")
        rel = m["rel"]
        below = int((rel < MARGIN_TOL).sum())
        frac = below / rel.size
        if frac > 0.01:
            WARNINGS.append(f"{name}/{case}: {below} of {rel.size} codes ({100 * frac:.1f} %) have a relative "
                            f"margin below {MARGIN_TOL}")
        check(frac <= MAX_NEAR_TIES, f"{name}/{case}: {below} of {rel.size} codes have a margin below {MARGIN_TOL}")
        tensors = {"latent": r["latent"], "encoder_out": r["encoder_out"], "conv2d_out": r["conv2d_out"],
                   "codes": r["codes"].astype(np.int32), "dist_best": m["best"], "dist_second": m["second"],
                   "margin": rel}
        if case in RECONSTRUCT:
            tensors["reconstruction"] = vr.decode(model, r["codes"])
            check(tensors["reconstruction"].shape == px.shape, f"{name}/{case}: reconstruction shape")
        meta = dict(base_meta, case=case, pixels=f"preprocess/{case}.safetensors",
                    typical_distance=repr(m["typical"]), min_margin=repr(float(rel.min())),
                    codes_below_margin_tol=str(below), distinct_codes=str(len(np.unique(r["codes"]))))
        dts = {k: ("I32" if k == "codes" else "F32") for k in tensors}
        st.write_file(os.path.join(out_dir, f"{case}.safetensors"), tensors, dts, meta)
        summary["cases"][case] = {"shape": list(r["codes"].shape), "distinct_codes": int(len(np.unique(r["codes"]))),
                                  "min_margin": float(rel.min()), "p1_margin": float(np.quantile(rel, 0.01)),
                                  "median_margin": float(np.median(rel)), "codes_below_1e-3": below,
                                  "latent_std": float(r["latent"].std()), "typical_distance": m["typical"]}
        print(f"  {name}/{case}: codes {list(r['codes'].shape)}, {len(np.unique(r['codes']))} distinct, "
              f"min margin {rel.min():.2e}, 1%-quantile {np.quantile(rel, 0.01):.2e}, below 1e-3: {below}"
              + (", reconstruction stored" if case in RECONSTRUCT else ""))
    rng = np.random.default_rng(mvt.CONFIGS[name]["seed"] + 1)
    for case, shape in DECODE_RANDOM.items():
        codes = rng.integers(0, model.config.codebook_size, shape)
        rec = vr.decode(model, codes)
        f = model.spatial_scale_factor
        check(rec.shape == (model.config.out_channels, shape[0] * f, shape[1] * f), f"{name}/{case}: shape {rec.shape}")
        st.write_file(os.path.join(out_dir, f"{case}.safetensors"),
                      {"codes": codes.astype(np.int32), "reconstruction": rec},
                      {"codes": "I32", "reconstruction": "F32"}, dict(base_meta, case=case))
        summary["cases"][case] = {"shape": list(shape), "reconstruction_std": float(rec.std())}
        print(f"  {name}/{case}: codes {list(shape)} -> reconstruction {list(rec.shape)}, std {rec.std():.3f}")
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    return summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", help="the authors' repository")
    ap.add_argument("--only", action="append", choices=["images", "preprocess", "tiny", "wide"])
    ap.add_argument("--keep-images", action="store_true")
    args = ap.parse_args(argv)
    only = set(args.only or ["images", "preprocess", "tiny", "wide"])
    import torch
    torch.set_num_threads(2)
    authors = vr.load_authors(args.mirror)
    print(f"authors' code: {authors.commit} ({BRANCH_NOTE}), transformers: {authors.transformers}")
    if "images" in only and not args.keep_images:
        make_images()
    info = image_info()
    with open(os.path.join(IMAGES, "images.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    tok = {"tiny": os.path.join(ROOT, mvt.CONFIGS["tiny"]["out"]), "wide": os.path.join(ROOT, mvt.CONFIGS["wide"]["out"])}
    pres = []
    for n, d in tok.items():
        with open(os.path.join(d, "preprocessor_config.json")) as f:
            pres.append(json.load(f))
    check(pres[0] == pres[1], "the configs' preprocessor_config.json differ; pixels are shared")
    _, processor, _, _, _ = vr.load_tokenizer_dir(authors, tok["tiny"])
    smart_resize_table(authors)
    pixels = preprocess_all(authors, processor)
    for n in ("tiny", "wide"):
        if n in only:
            model_goldens(authors, n, tok[n], pixels)
    for w in WARNINGS:
        print("note:", w)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        sys.exit(2)
    print("all checks passed")


BRANCH_NOTE = f"bytedance/SALMONN@{vr.BRANCH}"

if __name__ == "__main__":
    main()
