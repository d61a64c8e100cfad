#!/usr/bin/python3
"""Reference for the speech encoder (01-model.md §2.3, §4): lhotse fbank -> SPEAR Zipformer2 -> projector,
computed by THE AUTHORS' OWN MODULES in float64.

Nothing of the authors' code is committed here. `load_authors()` extracts
  reference/spear_encoder/{model,scaling,subsampling,zipformer}.py
from the ELLSA branch of the mirrored bytedance/SALMONN repository (`--mirror` / $ELLSA_SALMONN_MIRROR,
default /work/.mirror/bytedance+SALMONN/repo) with `git show` into a temporary package `spear_encoder`
(the name their code imports) and imports it: their Conv2dSubsampling, Zipformer2, MultiKDModel and
ScheduledFloat are what run. Nothing is shimmed for these four files (they need only torch and numpy).

The glue around them lives in reference/Emu3/emu3/mllm/modeling_emu3_mix.py (class LlamaWithSpeech),
which cannot be imported (transformers, peft, CosyVoice, flash-attn...). It is used from its text:
* `get_speech_encoder` (zipformer2 branch): its three constructor calls are parsed with `ast` and their
  keyword arguments evaluated (`_to_int_tuple("...")`, `ScheduledFloat(...)`, `max(...)` with THEIR
  ScheduledFloat). `build()` makes the same calls with the same arguments, except those the
  "speech_encoder" section of ellsa.json sets (the authors' argument names; see `RELEASE`);
  `check_release_arguments()` asserts that the release section reproduces their calls exactly.
* `encode_speech`: the method's source is cut out with `ast` and executed as it is, on a small
  object holding `speechencoder`, `ln_speech`, `speech_proj`, `seg_size` and `encoder_type`
  ("zipformer2"); `maybe_autocast` is the nullcontext their code takes on the CPU.
* `__init__`'s `ln_speech = nn.LayerNorm(self.speechencoder.encoder_dim)` and
  `speech_proj = nn.Sequential(nn.Linear(encoder_dim * seg_size, hid_size), nn.ReLU(),
  nn.Linear(hid_size, config.hidden_size))` are rebuilt by `build()`; `check_glue_text()` fails if
  those lines changed. seg_size / hid_size / hidden_size are the config's seg_size / hidden / output_dim.

Precision: the model is built by their code, then `.double()` (or `.float()` for the fp32 margin);
every weight is set to exactly the value its safetensors storage holds (BF16/F16/F32 rounding
applied). Run in eval mode under torch.no_grad(), as their frozen encoder is (requires_grad False).
"""

import ast
import contextlib
import copy
import json
import os
import sys
import textwrap
from collections import OrderedDict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import authors_mirror  # noqa: E402
import safetensors_io  # noqa: E402

MIRROR_ENV = "ELLSA_SALMONN_MIRROR"
MIRROR_DEFAULT = "/work/.mirror/bytedance+SALMONN/repo"
BRANCH = "ELLSA"
SPEAR_DIR = "reference/spear_encoder"
SPEAR_FILES = ["model.py", "scaling.py", "subsampling.py", "zipformer.py"]
MIX = "reference/Emu3/emu3/mllm/modeling_emu3_mix.py"
PACKAGE = "spear_encoder"
PREFIX = "speech_expert."

# The "speech_encoder" section of ellsa.json at the release: the authors' argument names and values
# (get_speech_encoder's zipformer2 branch, Conv2dSubsampling's default layer channels, and
# LlamaWithSpeech's seg_size/hid_size for time_block 1.0 and the speech expert's hidden size).
RELEASE = OrderedDict([
    ("num_mel_bins", 128),
    ("encoder_embed", OrderedDict([("layer1_channels", 8), ("layer2_channels", 32), ("layer3_channels", 128)])),
    ("output_downsampling_factor", 1),
    ("downsampling_factor", [1, 2, 4, 8, 4, 2, 1]),
    ("num_encoder_layers", [1, 2, 3, 4, 1, 1, 1]),
    ("encoder_dim", [1280]),
    ("encoder_unmasked_dim", [768]),
    ("query_head_dim", [32]),
    ("pos_head_dim", [4]),
    ("value_head_dim", [12]),
    ("pos_dim", 48),
    ("num_heads", [8]),
    ("feedforward_dim", [3840]),
    ("cnn_module_kernel", [31, 31, 15, 15, 15, 31, 31]),
    ("causal", True),
    ("chunk_size", 8),
    ("left_context_frames", 256),
    ("seg_size", 10),
    ("hidden", 6400),
    ("output_dim", 4096),
])
PER_STACK = ("num_encoder_layers", "encoder_dim", "encoder_unmasked_dim", "query_head_dim", "pos_head_dim",
             "value_head_dim", "num_heads", "feedforward_dim", "cnn_module_kernel")

_GLUE_LINES = [
    "self.ln_speech = nn.LayerNorm(self.speechencoder.encoder_dim)",
    "nn.Linear(self.speechencoder.encoder_dim * self.seg_size, self.hid_size),",
    "nn.ReLU(),",
    "nn.Linear(self.hid_size, config.hidden_size)",
    "self.seg_size = 10",
    "self.hid_size = 6400",
]


# ---------------------------------------------------------------- the authors' modules

class Authors:
    def __init__(self, mirror, commit, modules, mix_text):
        self.mirror, self.commit, self.mix_text = mirror, commit, mix_text
        self.model, self.scaling, self.subsampling, self.zipformer = modules
        self.calls = _speech_encoder_calls(mix_text, self.scaling.ScheduledFloat)
        self.encode_speech = _encode_speech_function(mix_text)

    def provenance(self):
        return {"authors_repo": "bytedance/SALMONN", "authors_branch": BRANCH, "authors_commit": self.commit,
                "authors_files": ",".join(f"{SPEAR_DIR}/{f}" for f in SPEAR_FILES) +
                f",{MIX} (get_speech_encoder, encode_speech)"}


_AUTHORS = None


def load_authors(mirror=None):
    """Extract the authors' SPEAR encoder package into a temp dir and import it (once per process)."""
    global _AUTHORS
    if _AUTHORS is None:
        mirror = authors_mirror.resolve(mirror, MIRROR_DEFAULT, MIRROR_ENV, BRANCH, "bytedance/SALMONN")
        authors_mirror.extract(mirror, BRANCH, {f"{SPEAR_DIR}/{f}": f"{PACKAGE}/{f}" for f in SPEAR_FILES},
                               {f"{PACKAGE}/__init__.py": ""}, prefix="spear-authors-")
        import importlib
        modules = [importlib.import_module(f"{PACKAGE}.{m}") for m in ("model", "scaling", "subsampling", "zipformer")]
        mix_text = authors_mirror.git(mirror, "show", f"{BRANCH}:{MIX}").decode()
        check_glue_text(mix_text)
        _AUTHORS = Authors(mirror, authors_mirror.commit_of(mirror, BRANCH), modules, mix_text)
        check_release_arguments(_AUTHORS)
    return _AUTHORS


def check_glue_text(mix_text):
    for line in _GLUE_LINES:
        if line not in mix_text:
            sys.exit(f"error: {MIX} no longer contains {line!r}; the speech glue this reference rebuilds changed")


def _method(mix_text, name):
    for node in ast.walk(ast.parse(mix_text)):
        if isinstance(node, ast.ClassDef) and node.name == "LlamaWithSpeech":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == name:
                    return item
    sys.exit(f"error: {MIX}: LlamaWithSpeech.{name} not found")


def _speech_encoder_calls(mix_text, scheduled_float):
    """{callee: {kwarg: value}} of get_speech_encoder's zipformer2 branch; module-valued arguments
    (encoder_embed=..., encoder=...) are left out."""
    fn = _method(mix_text, "get_speech_encoder")
    branch = None
    for node in ast.walk(fn):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and \
                any(isinstance(c, ast.Constant) and c.value == "zipformer2" for c in node.test.comparators):
            branch = node
    if branch is None:
        sys.exit(f"error: {MIX}: get_speech_encoder has no zipformer2 branch")
    env = {"_to_int_tuple": lambda s: tuple(map(int, s.split(","))), "ScheduledFloat": scheduled_float,
           "max": max}
    calls = {}
    for node in ast.walk(branch):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("Conv2dSubsampling", "Zipformer2", "MultiKDModel"):
            kw = OrderedDict()
            for k in node.keywords:
                if isinstance(k.value, ast.Name):
                    continue
                kw[k.arg] = eval(compile(ast.Expression(k.value), MIX, "eval"), env)  # noqa: S307
            calls[node.func.id] = kw
    if len(calls) != 3:
        sys.exit(f"error: {MIX}: get_speech_encoder's zipformer2 branch lacks one of its constructor calls")
    return calls


def _encode_speech_function(mix_text):
    fn = _method(mix_text, "encode_speech")
    lines = mix_text.splitlines()[fn.lineno - 1:fn.end_lineno]
    ns = {}
    exec(compile(textwrap.dedent("\n".join(lines)), MIX, "exec"), _torch_namespace(), ns)  # noqa: S102
    return ns["encode_speech"]


def _torch_namespace():
    import torch
    return {"torch": torch, "contextlib": contextlib}


# ---------------------------------------------------------------- configs

def config_section(values=None):
    """The full "speech_encoder" section: release defaults overridden by `values` (unknown keys refused)."""
    values = values or {}
    unknown = set(values) - set(RELEASE)
    if unknown:
        raise ValueError(f"not speech_encoder keys: {sorted(unknown)}")
    out = copy.deepcopy(RELEASE)
    for k, v in values.items():
        if k == "encoder_embed":
            bad = set(v) - set(RELEASE["encoder_embed"])
            if bad:
                raise ValueError(f"not speech_encoder.encoder_embed keys: {sorted(bad)}")
            out[k].update(v)
        else:
            out[k] = v
    stacks = len(out["downsampling_factor"])
    for k in PER_STACK:
        if len(out[k]) not in (1, stacks):
            raise ValueError(f"speech_encoder.{k}: {len(out[k])} values for {stacks} stacks")
    return out


def per_stack(section, key):
    v = section[key]
    return list(v) * len(section["downsampling_factor"]) if len(v) == 1 else list(v)


def _arguments(authors, section):
    """The keyword arguments of the three constructors for `section`: theirs, with the config's values."""
    calls = copy.deepcopy(authors.calls)
    dims = tuple(section["encoder_dim"])
    embed = calls["Conv2dSubsampling"]
    embed.update(in_channels=section["num_mel_bins"], out_channels=per_stack(section, "encoder_dim")[0],
                 **section["encoder_embed"])
    zf = calls["Zipformer2"]
    for k in ("output_downsampling_factor", "pos_dim", "causal"):
        zf[k] = section[k]
    for k in ("downsampling_factor",) + PER_STACK:
        zf[k] = tuple(section[k])
    zf["chunk_size"] = (section["chunk_size"],)
    zf["left_context_frames"] = (section["left_context_frames"],)
    calls["MultiKDModel"]["encoder_dim"] = max(dims)
    return calls


def check_release_arguments(authors):
    """The release section must give exactly the arguments of their get_speech_encoder."""
    mine = _arguments(authors, config_section())
    for callee, theirs in authors.calls.items():
        for k, v in theirs.items():
            if isinstance(v, authors.scaling.ScheduledFloat):
                continue  # dropout schedules: their very objects are passed on
            stacks = len(theirs.get("downsampling_factor", ()))
            if _plain(v, stacks) != _plain(mine[callee][k], stacks):
                sys.exit(f"error: the release speech_encoder section gives {callee}({k}={mine[callee][k]!r}) "
                         f"but {MIX} passes {v!r}")


def _plain(v, stacks):
    """Lists as tuples, one-element per-stack tuples expanded as Zipformer2's _to_tuple does."""
    if not isinstance(v, (list, tuple)):
        return v
    return tuple(v) * stacks if len(v) == 1 and stacks else tuple(v)


# ---------------------------------------------------------------- the model

class SpeechInput:
    """The parts of LlamaWithSpeech that turn fbank into embeddings, under the authors' attribute names."""

    encoder_type = "zipformer2"

    def __init__(self, authors, section):
        import torch.nn as nn
        self.authors, self.section = authors, section
        args = _arguments(authors, section)
        embed = authors.subsampling.Conv2dSubsampling(**args["Conv2dSubsampling"])
        encoder = authors.zipformer.Zipformer2(**args["Zipformer2"])
        self.speechencoder = authors.model.MultiKDModel(encoder_embed=embed, encoder=encoder, **args["MultiKDModel"])
        self.seg_size = section["seg_size"]
        self.hid_size = section["hidden"]
        self.ln_speech = nn.LayerNorm(self.speechencoder.encoder_dim)
        self.speech_proj = nn.Sequential(
            nn.Linear(self.speechencoder.encoder_dim * self.seg_size, self.hid_size),
            nn.ReLU(),
            nn.Linear(self.hid_size, section["output_dim"]))
        self.modules = nn.ModuleDict(OrderedDict(speechencoder=self.speechencoder, ln_speech=self.ln_speech,
                                                 speech_proj=self.speech_proj))
        self.modules.eval()
        self.last_encoder = None

    def maybe_autocast(self):
        return contextlib.nullcontext()  # their maybe_autocast on the CPU

    def to(self, dtype):
        self.modules.to(dtype)
        return self

    def state_names(self):
        """Checkpoint names (with the speech_expert. prefix) -> (module parameter/buffer, shape)."""
        return OrderedDict((PREFIX + k, v) for k, v in self.modules.state_dict().items())

    def set_weights(self, tensors):
        """Set every state tensor from `tensors` (checkpoint name -> array, exactly the stored values)."""
        import torch
        state = self.modules.state_dict()
        missing = [PREFIX + k for k in state if PREFIX + k not in tensors]
        extra = [k for k in tensors if not k.startswith(PREFIX) or k[len(PREFIX):] not in state]
        if missing or extra:
            raise ValueError(f"weights disagree with the model: missing {missing[:5]}, unexpected {extra[:5]}")
        new = OrderedDict()
        for k, v in state.items():
            a = np.asarray(tensors[PREFIX + k])
            if tuple(a.shape) != tuple(v.shape):
                raise ValueError(f"{PREFIX + k}: shape {list(a.shape)} but the model has {list(v.shape)}")
            new[k] = torch.from_numpy(np.array(a)).to(v.dtype)  # a copy: stored arrays are read-only
        self.modules.load_state_dict(new, strict=True)


def build(section, mirror=None):
    return SpeechInput(load_authors(mirror), config_section(section))


def encode(model, fbank):
    """fbank [T, mel] (float64 for the reference) -> (encoder [M, D], embeddings [K, output_dim]) as
    numpy arrays in the model's dtype: MultiKDModel.forward_encoder, then THEIR encode_speech's
    ln_speech (discarded), zero-padding to a multiple of seg_size, frame-major reshape and speech_proj."""
    import torch
    dtype = next(model.modules.parameters()).dtype
    x = torch.from_numpy(np.array(fbank)).to(dtype)[None]
    lens = torch.tensor([x.shape[1]], dtype=torch.int64)
    captured = {}
    original = model.speechencoder.forward_encoder

    def capture(*a, **k):
        out = original(*a, **k)
        captured["encoder"], captured["lens"] = out
        return out

    model.speechencoder.forward_encoder = capture
    try:
        with torch.no_grad():
            embeddings = model.authors.encode_speech(model, x, lens)
    finally:
        del model.speechencoder.forward_encoder
    enc = captured["encoder"]
    if int(captured["lens"][0]) != enc.shape[1]:
        raise RuntimeError(f"encoder length {int(captured['lens'][0])} != frames {enc.shape[1]}")
    return enc[0].numpy(), embeddings[0].numpy()


# ---------------------------------------------------------------- model directories

def write_model_dir(model_dir, section_values, tensors, dtypes, metadata):
    """`ellsa.json` holding only the "speech_encoder" section + `speech_encoder.safetensors`."""
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "ellsa.json"), "w") as f:
        json.dump({"speech_encoder": section_values}, f, indent=2)
        f.write("\n")
    safetensors_io.write_file(os.path.join(model_dir, "speech_encoder.safetensors"), tensors, dtypes, metadata)


def load_model_dir(model_dir, dtype="float64", mirror=None):
    """Build the authors' model from `model_dir`'s ellsa.json and set the stored weights."""
    import torch
    with open(os.path.join(model_dir, "ellsa.json")) as f:
        section = json.load(f).get("speech_encoder")
    tensors, _, _ = safetensors_io.read_file(os.path.join(model_dir, "speech_encoder.safetensors"))
    model = build(section, mirror).to(getattr(torch, dtype))
    model.set_weights(tensors)
    return model
