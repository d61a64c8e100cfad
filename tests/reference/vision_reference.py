#!/usr/bin/python3
"""Reference for the vision codec (02-protocol.md §4): camera frames -> Emu3 VisionVQ codes and back,
computed by THE AUTHORS' OWN MODULES in float64.

Nothing of the authors' code is committed here. At run time `load_authors()` extracts
  reference/Emu3/emu3/tokenizer/{__init__,configuration_emu3visionvq,modeling_emu3visionvq,
                                 image_processing_emu3visionvq}.py
from the ELLSA branch of the mirrored bytedance/SALMONN repository (`--mirror` / $ELLSA_SALMONN_MIRROR,
default /work/.mirror/bytedance+SALMONN/repo) with `git show ELLSA:<path>` into a temporary package
and imports it. Their `Emu3VisionVQModel` (encoder, quantizer, decoder), `Emu3VisionVQConfig`,
`Emu3VisionVQImageProcessor` and `smart_resize` are what run; this file only builds inputs, sets
weights, and reads results.

What is shimmed, and why: `transformers` is not installable on these machines and its source is not
mirrored, so `transformers_shim.py` provides the few names the authors' files import
(PreTrainedModel, PretrainedConfig, BaseImageProcessor/BatchFeature, and the image transforms
resize / rescale / normalize / convert_to_rgb / to_channel_dimension_format with their image_utils
helpers). The transforms do what transformers does, numerically: resize converts the uint8 array
to a PIL image and calls Pillow's `Image.resize((w, h), resample)`; convert_to_rgb is
`image.convert("RGB")` for non-RGB PIL images; rescale is `float64(x) * scale -> float32`;
normalize is `(x - mean) / std` in float32. If a real `transformers` is importable it is used
instead (the golden metadata records which).

The evaluation pipeline (model_wrapper_emu.py, `preprocess`, ~lines 347-366, and line ~116) is two
lines of PIL around the authors' processor, reproduced by `wrapper_pixels()`:
  Image.fromarray(frame).resize((200, 200))        # Pillow's default filter: BICUBIC (reducing_gap None)
  image_processor(img, return_tensors="pt")        # with image_processor.min_pixels = 80 * 80
`check_wrapper()` reads the wrapper from the mirror and fails if those lines have changed.
For image FILES (the engine's extension; the wrapper gets RGB arrays from the simulator) a file is
opened with PIL and converted with `.convert("RGB")` before the wrapper's lines.

Precision: the model is built by their code, then `.double()`; pixels (float32 from their processor)
are widened to float64; every weight is set to exactly the value its safetensors storage holds
(F32, F16 or BF16 rounding applied before the float64 reference uses it).

Random weights (`random_state`), chosen so an fp32 engine can match codes (well-conditioned):
* every Conv2d/Conv3d weight ~ N(0, 1/fan_in) (fan_in = in_channels x kernel volume), bias ~ N(0, 0.05²):
  after each GroupNorm/BatchNorm + SiLU the next conv's output stays O(1) through the depth;
* SpatialNorm (decoder) `conv_y`: weight ~ N(0, 0.1²/fan_in), bias 1 + N(0, 0.05²); `conv_b`: weight
  ~ N(0, 0.1²/fan_in), bias N(0, 0.05²), so the zq modulation is a mild perturbation of 1 and 0;
* GroupNorm and BatchNorm3d affine: weight 1 + N(0, 0.1²), bias N(0, 0.1²); BatchNorm running_mean
  N(0, 0.1²), running_var U(0.5, 1.5), num_batches_tracked 0 (I64 scalar, unused in eval);
* codebook (`quantize.embedding.weight`): drawn AFTER the rest, from the statistics of the encoder's
  pre-quantisation latents on calibration frames (per-channel mean + std x N(0, 1)), so the codes
  cover the latent cloud and the best/second-best margins are mostly well above 1e-3 of a typical
  distance. `margins()` reports them per code.
"""

import atexit
import inspect
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import OrderedDict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
import transformers_shim  # noqa: E402

MIRROR_ENV = "ELLSA_SALMONN_MIRROR"
MIRROR_DEFAULT = "/work/.mirror/bytedance+SALMONN/repo"
BRANCH = "ELLSA"
TOKENIZER_DIR = "reference/Emu3/emu3/tokenizer"
TOKENIZER_FILES = ["__init__.py", "configuration_emu3visionvq.py", "modeling_emu3visionvq.py",
                   "image_processing_emu3visionvq.py"]
WRAPPER = "reference/RoboVLMs/eval/libero/model_wrapper_emu.py"
PACKAGE = "emu3_visionvq_authors"

# The wrapper's two settings (model_wrapper_emu.py): frames resized to 200x200 by PIL's default
# filter, and the processor's min_pixels forced to 80*80.
WRAPPER_SIZE = (200, 200)
WRAPPER_MIN_PIXELS = 80 * 80

# The released preprocessor_config.json of BAAI/Emu3-VisionTokenizer (keys of the processor's
# __init__, plus image_processor_type). min_pixels is the release's 512*512: the 80*80 is the
# wrapper's run-time override, not a config value.
RELEASE_PREPROCESSOR = {
    "do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True,
    "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
    "max_pixels": 1024 * 1024, "min_pixels": 512 * 512, "rescale_factor": 1 / 255, "resample": 3,
    "spatial_factor": 8,
}


class Authors:
    """The authors' modules, imported from a temporary extraction of the mirror."""

    def __init__(self, mirror, commit, transformers_version, modules):
        self.mirror, self.commit, self.transformers = mirror, commit, transformers_version
        conf, model, proc = modules
        self.Config = conf.Emu3VisionVQConfig
        self.Model = model.Emu3VisionVQModel
        self.Processor = proc.Emu3VisionVQImageProcessor
        self.smart_resize = proc.smart_resize
        self.wrapper_text = None

    def provenance(self):
        return {"authors_repo": "bytedance/SALMONN", "authors_branch": BRANCH, "authors_commit": self.commit,
                "authors_files": ",".join(f"{TOKENIZER_DIR}/{f}" for f in TOKENIZER_FILES),
                "transformers": self.transformers}


def _git(mirror, *args):
    return subprocess.run(["git", "--git-dir", mirror, *args], check=True, capture_output=True).stdout


def resolve_mirror(mirror=None):
    mirror = mirror or os.environ.get(MIRROR_ENV) or MIRROR_DEFAULT
    if not os.path.isdir(mirror):
        sys.exit(f"error: the authors' repository mirror {mirror} is absent (bytedance/SALMONN, branch "
                 f"{BRANCH}); pass --mirror DIR or set ${MIRROR_ENV}")
    try:
        _git(mirror, "rev-parse", "--verify", BRANCH)
    except subprocess.CalledProcessError as e:
        sys.exit(f"error: {mirror} is not a git directory with branch {BRANCH}: {e.stderr.decode().strip()}")
    return mirror


_AUTHORS = None


def load_authors(mirror=None):
    """Extract the authors' tokenizer package into a temp dir and import it (once per process)."""
    global _AUTHORS
    if _AUTHORS is not None:
        return _AUTHORS
    mirror = resolve_mirror(mirror)
    commit = _git(mirror, "rev-parse", BRANCH).decode().strip()
    version = transformers_shim.install()
    tmp = tempfile.mkdtemp(prefix="emu3vq-authors-")
    atexit.register(shutil.rmtree, tmp, True)
    pkg = os.path.join(tmp, PACKAGE)
    os.makedirs(pkg)
    for f in TOKENIZER_FILES:
        try:
            text = _git(mirror, "show", f"{BRANCH}:{TOKENIZER_DIR}/{f}")
        except subprocess.CalledProcessError as e:
            sys.exit(f"error: cannot read {TOKENIZER_DIR}/{f} from {mirror}@{BRANCH}: {e.stderr.decode().strip()}")
        with open(os.path.join(pkg, f), "wb") as fh:
            fh.write(text)
    sys.path.insert(0, tmp)
    import importlib
    pkg_mod = importlib.import_module(PACKAGE)
    modules = [importlib.import_module(f"{PACKAGE}.{m}") for m in
               ("configuration_emu3visionvq", "modeling_emu3visionvq", "image_processing_emu3visionvq")]
    # Their __init__ exposes the classes lazily; check that it resolves them to the same objects.
    assert pkg_mod.Emu3VisionVQModel is modules[1].Emu3VisionVQModel
    _AUTHORS = Authors(mirror, commit, version, modules)
    _AUTHORS.wrapper_text = check_wrapper(mirror)
    return _AUTHORS


def check_wrapper(mirror):
    """The wrapper lines this reference reproduces must still be there, verbatim."""
    text = _git(mirror, "show", f"{BRANCH}:{WRAPPER}").decode()
    needed = ["self.image_processor.min_pixels = 80 * 80",
              "agent_view = Image.fromarray(agent_view)",
              "agent_view = agent_view.resize((200, 200))",
              'image_x = self.image_processor(agent_view, return_tensors="pt")["pixel_values"]',
              "image_code = self.image_tokenizer.encode(image_x)"]
    for line in needed:
        if line not in text:
            sys.exit(f"error: {WRAPPER} no longer contains {line!r}; the wrapper pipeline changed")
    return text


# ---------------------------------------------------------------- configs

def config_keys(authors):
    """The keyword arguments of Emu3VisionVQConfig.__init__ and their defaults."""
    sig = inspect.signature(authors.Config.__init__)
    return OrderedDict((n, p.default) for n, p in sig.parameters.items()
                       if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))


def config_json(authors, values):
    """config.json content: exactly the configuration class's keys, plus model_type/architectures."""
    keys = config_keys(authors)
    unknown = set(values) - set(keys)
    if unknown:
        raise ValueError(f"not Emu3VisionVQConfig keys: {sorted(unknown)}")
    out = {k: values.get(k, d) for k, d in keys.items()}
    out["model_type"] = authors.Config.model_type
    out["architectures"] = ["Emu3VisionVQModel"]
    return dict(sorted(out.items()))


def preprocessor_json(authors, values=None):
    """preprocessor_config.json content: the processor's __init__ keys + image_processor_type."""
    sig = inspect.signature(authors.Processor.__init__)
    keys = [n for n, p in sig.parameters.items() if n != "self" and p.kind != p.VAR_KEYWORD]
    vals = dict(RELEASE_PREPROCESSOR)
    vals.update(values or {})
    missing = set(keys) - set(vals)
    if missing:
        raise ValueError(f"no value for processor keys {sorted(missing)}")
    out = {k: vals[k] for k in keys}
    out["image_processor_type"] = authors.Processor.__name__
    return dict(sorted(out.items()))


def make_config(authors, cfg_json):
    kwargs = {k: v for k, v in cfg_json.items() if k in config_keys(authors)}
    return authors.Config(**kwargs)


def make_processor(authors, pre_json, wrapper_override=True):
    """Their processor from preprocessor_config.json (as from_pretrained passes the dict), then the
    wrapper's `image_processor.min_pixels = 80 * 80`."""
    proc = authors.Processor(**pre_json)
    if wrapper_override:
        proc.min_pixels = WRAPPER_MIN_PIXELS
    return proc


def build_model(authors, cfg_json):
    """Their Emu3VisionVQModel for this config, in float64, eval mode."""
    import torch
    torch.manual_seed(0)  # their __init__/post_init draw random numbers; keep it deterministic
    model = authors.Model(make_config(authors, cfg_json))
    return model.double().eval()


# ---------------------------------------------------------------- weights

def _module_of(model, param_name):
    return model.get_submodule(param_name.rsplit(".", 1)[0]) if "." in param_name else model


def random_state(model, seed):
    """Random well-conditioned values for every state_dict entry except the codebook (see module doc).

    Returns an OrderedDict name -> numpy array (float64, or int64 for num_batches_tracked), in
    state_dict order. The codebook entry is a placeholder (zeros) until `set_codebook`."""
    from torch import nn
    rng = np.random.default_rng(seed)
    state = OrderedDict()
    for name, t in model.state_dict().items():
        shape = tuple(t.shape)
        leaf = name.rsplit(".", 1)[-1]
        mod = _module_of(model, name)
        owner = name.rsplit(".", 2)[-2] if name.count(".") >= 1 else ""
        if name == "quantize.embedding.weight":
            v = np.zeros(shape)
        elif isinstance(mod, (nn.Conv2d, nn.Conv3d)):
            fan_in = int(np.prod(shape[1:])) if leaf == "weight" else int(np.prod(mod.weight.shape[1:]))
            spatial = owner in ("conv_y", "conv_b")
            if leaf == "weight":
                v = rng.standard_normal(shape) * ((0.1 if spatial else 1.0) / math.sqrt(fan_in))
            else:
                v = rng.standard_normal(shape) * 0.05 + (1.0 if owner == "conv_y" else 0.0)
        elif isinstance(mod, (nn.GroupNorm, nn.BatchNorm3d)):
            if leaf == "weight":
                v = 1.0 + 0.1 * rng.standard_normal(shape)
            elif leaf == "bias":
                v = 0.1 * rng.standard_normal(shape)
            elif leaf == "running_mean":
                v = 0.1 * rng.standard_normal(shape)
            elif leaf == "running_var":
                v = rng.uniform(0.5, 1.5, shape)
            elif leaf == "num_batches_tracked":
                v = np.zeros(shape, dtype=np.int64)
            else:
                raise ValueError(f"unexpected norm entry {name}")
        else:
            raise ValueError(f"no initialisation rule for {name} ({type(mod).__name__})")
        state[name] = v
    return state


def storage_dtypes(state, rules, default="F32"):
    """name -> safetensors dtype. `rules`: list of (regex, dtype), first match wins; integer
    entries are always I64; the codebook and BatchNorm running statistics stay F32 unless a rule
    names them explicitly."""
    out = {}
    for name, v in state.items():
        if np.issubdtype(np.asarray(v).dtype, np.integer):
            out[name] = "I64"
            continue
        dt = default
        for pattern, rule_dt in rules:
            if re.search(pattern, name):
                dt = rule_dt
                break
        out[name] = safetensors_io.canonical_dtype(dt)
    return out


def rounded(state, dtypes):
    """The values as stored: every float rounded to its storage dtype (returned as float64)."""
    return OrderedDict((n, v if dtypes[n] == "I64" else safetensors_io.round_to_dtype(v, dtypes[n]))
                       for n, v in state.items())


def load_state(model, state):
    import torch
    sd = OrderedDict()
    for n, v in state.items():
        a = np.asarray(v)
        sd[n] = torch.from_numpy(a.astype(np.int64) if np.issubdtype(a.dtype, np.integer)
                                 else a.astype(np.float64)).reshape(model.state_dict()[n].shape)
    model.load_state_dict(sd, strict=True)


def set_codebook(model, state, dtypes, calibration_pixels, seed, spread=1.0):
    """Draw the codebook from the per-channel statistics of the pre-quantisation latents of
    `calibration_pixels` (list of [1,3,H,W] tensors) under the current (rounded) weights."""
    lat = np.concatenate([encode(model, px)["latent"].reshape(model.config.embed_dim, -1).T
                          for px in calibration_pixels])
    mean, std = lat.mean(0), lat.std(0)
    rng = np.random.default_rng(seed + 7919)
    k = model.config.codebook_size
    state["quantize.embedding.weight"] = mean + spread * std * rng.standard_normal((k, model.config.embed_dim))
    r = rounded(state, dtypes)
    load_state(model, r)
    return r


# ---------------------------------------------------------------- running their model

def encode(model, pixels):
    """Their `encode` on [1,3,H,W] pixels (float64); returns the codes and what went into quantize.

    latent:      the input of model.quantize, [embed_dim, h, w] (their [b, t, c, h, w] with b = t = 1)
    encoder_out: the output of model.encoder (after time_conv and time_res_stack), [z_channels, h, w]
    conv2d_out:  the 2-D encoder's conv_out output for the first of the 4 repeated frames, [z, h, w]
    codes:       their indices, [h, w] int64
    """
    import torch
    seen = {}
    hooks = [model.quantize.register_forward_pre_hook(lambda m, a: seen.__setitem__("latent", a[0].detach().clone())),
             model.encoder.register_forward_hook(lambda m, a, o: seen.__setitem__("encoder_out", o.detach().clone())),
             model.encoder.conv_out.register_forward_hook(
                 lambda m, a, o: seen.__setitem__("conv2d_out", o.detach().clone()))]
    try:
        with torch.no_grad():
            codes = model.encode(pixels.to(torch.float64))
    finally:
        for h in hooks:
            h.remove()
    lat = seen["latent"]
    assert lat.shape[0] == 1 and lat.shape[1] == 1, lat.shape
    enc = seen["encoder_out"]
    assert enc.shape[0] == 1 and enc.shape[1] == 1, enc.shape
    return {"codes": codes[0].numpy(), "latent": lat[0, 0].numpy(), "encoder_out": enc[0, 0].numpy(),
            "conv2d_out": seen["conv2d_out"][0].numpy()}


def decode(model, codes):
    """Their `decode` of [h, w] codes -> [3, H, W] float64 (the first of the 4 decoded frames,
    which is what their decode returns for a 3-D input)."""
    import torch
    with torch.no_grad():
        out = model.decode(torch.as_tensor(np.asarray(codes, dtype=np.int64))[None])
    return out[0].numpy()


def margins(latent, codebook):
    """Squared distances as the authors' quantizer computes them (|x|^2 + |c|^2 - 2 x.c), float64.

    Returns best [h,w], second [h,w], argmin [h,w] (lowest index on ties), typical (the mean of all
    distances of this image, positions x codes) and rel = (second - best) / typical [h,w]."""
    c, h, w = latent.shape
    x = latent.reshape(c, -1).T
    d = (x ** 2).sum(1, keepdims=True) + (codebook ** 2).sum(1)[None, :] - 2 * x @ codebook.T
    order = np.argsort(d, axis=1, kind="stable")
    best = np.take_along_axis(d, order[:, :1], 1)[:, 0]
    second = np.take_along_axis(d, order[:, 1:2], 1)[:, 0]
    typical = float(d.mean())
    return {"best": best.reshape(h, w), "second": second.reshape(h, w), "argmin": order[:, 0].reshape(h, w),
            "typical": typical, "rel": ((second - best) / typical).reshape(h, w)}


# ---------------------------------------------------------------- preprocessing

def open_image(path):
    """The file as PIL decodes it (fully loaded), in its own mode."""
    from PIL import Image
    with Image.open(path) as im:
        im.load()
        return im.copy()


def wrapper_pixels(processor, rgb):
    """model_wrapper_emu.py `preprocess`: Image.fromarray(frame).resize((200, 200)) then the processor.
    `rgb`: uint8 [H, W, 3]. Returns (pixels float32 tensor [1,3,200,200], resized PIL image)."""
    from PIL import Image
    img = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8))
    img = img.resize(WRAPPER_SIZE)
    return processor(img, return_tensors="pt")["pixel_values"], img


def file_to_wrapper_pixels(processor, path):
    """An image file through the wrapper: PIL open, .convert("RGB"), then `wrapper_pixels`."""
    im = open_image(path)
    return wrapper_pixels(processor, np.asarray(im.convert("RGB")))


def direct_pixels(processor, path):
    """An image file straight into their processor (no wrapper resize): their convert_to_rgb and
    smart_resize(min_pixels = the processor's, i.e. 80*80 after the wrapper override)."""
    return processor(open_image(path), return_tensors="pt")["pixel_values"]


# ---------------------------------------------------------------- vision_tokenizer directory

def write_tokenizer_dir(out_dir, cfg_json, pre_json, state, dtypes, metadata=None):
    """Write config.json, preprocessor_config.json and model.safetensors (values as given; they
    must already be rounded to `dtypes`)."""
    os.makedirs(out_dir, exist_ok=True)
    for name, obj in (("config.json", cfg_json), ("preprocessor_config.json", pre_json)):
        with open(os.path.join(out_dir, name), "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
    tensors = OrderedDict()
    for n, v in state.items():
        tensors[n] = np.asarray(v, dtype=np.int64) if dtypes[n] == "I64" else np.asarray(v, dtype=np.float64)
    meta = {"format": "pt"}
    meta.update(metadata or {})
    safetensors_io.write_file(os.path.join(out_dir, "model.safetensors"), tensors, dtypes, meta)


def load_tokenizer_dir(authors, tok_dir):
    """Build their model from a vision_tokenizer directory (config.json + model.safetensors, the
    stored values widened to float64) and their processor from preprocessor_config.json with the
    wrapper's min_pixels override. Returns (model, processor, cfg_json, pre_json, dtypes)."""
    with open(os.path.join(tok_dir, "config.json")) as f:
        cfg_json = json.load(f)
    with open(os.path.join(tok_dir, "preprocessor_config.json")) as f:
        pre_json = json.load(f)
    model = build_model(authors, cfg_json)
    tensors, dtypes, _ = safetensors_io.read_file(os.path.join(tok_dir, "model.safetensors"))
    expected = set(model.state_dict())
    if set(tensors) != expected:
        raise ValueError(f"{tok_dir}: tensor names differ from the model's: missing "
                         f"{sorted(expected - set(tensors))[:5]}, extra {sorted(set(tensors) - expected)[:5]}")
    load_state(model, tensors)
    return model, make_processor(authors, pre_json), cfg_json, pre_json, dtypes


def check_factor(cfg_json, pre_json):
    """The processor's spatial_factor must equal the model's 2^(len(ch_mult)-1)."""
    f = 2 ** (len(cfg_json["ch_mult"]) - 1)
    if pre_json["spatial_factor"] != f:
        raise ValueError(f"spatial_factor {pre_json['spatial_factor']} != 2^(len(ch_mult)-1) = {f}")


def parameter_count(state):
    return int(sum(np.size(v) for n, v in state.items() if not n.endswith("num_batches_tracked")))


# ---------------------------------------------------------------- synthetic photographs

def _value_noise(rng, h, w, cells):
    """Smooth noise: a (cells+1)^2 random grid, bilinearly interpolated to h x w."""
    g = rng.standard_normal((cells + 1, cells + 1))
    y = np.linspace(0, cells, h, endpoint=False) + 0.5 * cells / h
    x = np.linspace(0, cells, w, endpoint=False) + 0.5 * cells / w
    y0, x0 = np.floor(y).astype(int), np.floor(x).astype(int)
    fy, fx = (y - y0)[:, None], (x - x0)[None, :]
    fy, fx = fy * fy * (3 - 2 * fy), fx * fx * (3 - 2 * fx)  # smoothstep
    a, b = g[y0][:, x0], g[y0][:, x0 + 1]
    c, d = g[y0 + 1][:, x0], g[y0 + 1][:, x0 + 1]
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy


def synthetic_photo(width, height, seed):
    """A deterministic "photograph" (uint8 [height, width, 3]) with natural-looking statistics:
    a sky-like vertical gradient over a textured ground (multi-octave value noise), shaded
    ellipses (smooth radial gradients, anti-aliased rims), hard-edged rectangles and thin lines
    (sharp, aliased edges), a vignette, and mild sensor noise. Geometry is in relative units, so
    the same seed gives the same scene at any size."""
    rng = np.random.default_rng(seed)
    yy, xx = np.meshgrid((np.arange(height) + 0.5) / height, (np.arange(width) + 0.5) / width, indexing="ij")
    top, bottom = rng.uniform(0.45, 1.0, 3), rng.uniform(0.1, 0.6, 3)
    img = top[None, None] * (1 - yy[..., None]) + bottom[None, None] * yy[..., None]
    horizon = rng.uniform(0.35, 0.65) + 0.05 * _value_noise(rng, 1, width, 4)[0][None, :]
    tex = sum(_value_noise(rng, height, width, c) * a for c, a in ((4, 0.5), (16, 0.25), (48, 0.12), (96, 0.08)))
    ground = rng.uniform(0.15, 0.7, 3)[None, None] * (1 + 0.6 * tex[..., None])
    below = (yy > horizon)[..., None]
    img = np.where(below, ground, img)
    for _ in range(rng.integers(3, 6)):  # shaded ellipses, anti-aliased by a 1.5-pixel ramp
        cx, cy = rng.uniform(0.1, 0.9, 2)
        rx, ry = rng.uniform(0.06, 0.25, 2)
        r = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
        edge = np.clip((1 - r) * min(rx * width, ry * height) / 1.5, 0, 1)[..., None]
        col = rng.uniform(0, 1, 3)
        shade = (1.15 - 0.6 * np.clip(np.sqrt(((xx - cx + 0.4 * rx) / rx) ** 2
                                              + ((yy - cy + 0.4 * ry) / ry) ** 2), 0, 1.5))[..., None]
        img = img * (1 - edge) + np.clip(col[None, None] * shade, 0, 1) * edge
    for _ in range(rng.integers(2, 5)):  # hard-edged boxes with a noisy surface
        x0, y0 = rng.uniform(0, 0.8, 2)
        x1, y1 = x0 + rng.uniform(0.08, 0.3), y0 + rng.uniform(0.08, 0.3)
        m = ((xx >= x0) & (xx < x1) & (yy >= y0) & (yy < y1))[..., None]
        col = rng.uniform(0, 1, 3)[None, None] * (1 + 0.15 * _value_noise(rng, height, width, 24)[..., None])
        img = np.where(m, col, img)
    for _ in range(rng.integers(2, 4)):  # thin dark or bright lines
        a, b = rng.uniform(-1.5, 1.5), rng.uniform(0.1, 0.9)
        m = (np.abs(yy - (a * (xx - 0.5) + b)) * height < rng.uniform(0.5, 1.5))[..., None]
        img = np.where(m, rng.choice([0.03, 0.97]), img)
    vignette = 1 - 0.35 * (((xx - 0.5) ** 2 + (yy - 0.5) ** 2) / 0.5)[..., None]
    img = img * vignette + rng.normal(0, 2.0 / 255, img.shape)
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)
