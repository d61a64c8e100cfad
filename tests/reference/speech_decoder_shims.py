"""Shims for the packages the authors' speech-decoder files import and Debian lacks (each the smallest that
runs THEIR code unchanged), written into the temporary package tree next to their extracted files.

  einops        pack / rearrange / repeat, only for the patterns CosyVoice's flow/decoder.py and Matcha's
                decoder.py use ("b * t" packs, axis permutations, one new axis); anything else raises.
  conformer     Matcha's decoder.py imports `ConformerBlock` for a class CosyVoice never builds.
  matcha/utils  Matcha's utils/__init__ imports hydra/lightning/rich for training; the CFM base class only
                needs `pylogger.get_pylogger` (a logging.Logger).
  diffusers     Matcha's transformer block uses diffusers v0.29.0's `Attention`, `GELU`, `LoRACompatibleLinear`
                (their models/*.py files ARE extracted from the diffusers mirror); the package `__init__`s,
                `utils` (logging, deprecate, version probes) and `image_processor` are replaced by stubs:
                no xformers, no NPU, no transformers, deprecation warnings dropped.
  transformers  Qwen2ForCausalLM from qwen2_shim.py (not the authors' code; see there).
  torch         torch.nn.utils.parametrizations.weight_norm (torch >= 2.1, used by HiFT) is added to torch
                1.13 with torch 2.1's own definition: register_parametrization with original0 = g
                (norm_except_dim(w, 2, dim)) and original1 = v, forward torch._weight_norm(v, g, dim); the
                state-dict names `parametrizations.weight.original0/1` are therefore the release's.
"""

EINOPS = '''"""Shim of einops for the three patterns the authors' decoders use (see speech_decoder_shims.py)."""
import torch


def _sides(pattern):
    lhs, rhs = pattern.split("->")
    lhs, rhs = lhs.split(), rhs.split()
    if any("(" in a or ")" in a for a in lhs + rhs):
        raise NotImplementedError(f"einops shim: groupings not supported: {pattern}")
    return lhs, rhs


def rearrange(x, pattern):
    lhs, rhs = _sides(pattern)
    if sorted(lhs) != sorted(rhs) or len(lhs) != x.dim():
        raise NotImplementedError(f"einops shim: only permutations: {pattern}")
    return x.permute(*[lhs.index(a) for a in rhs])


def repeat(x, pattern, **sizes):
    lhs, rhs = _sides(pattern)
    if [a for a in rhs if a in lhs] != lhs or len(lhs) != x.dim():
        raise NotImplementedError(f"einops shim: only new axes: {pattern}")
    y = x
    for i, a in enumerate(rhs):
        if a not in lhs:
            y = y.unsqueeze(i)
    return y.expand(*[sizes[a] if a not in lhs else -1 for a in rhs]).contiguous()


def pack(tensors, pattern):
    axes = pattern.split()
    if axes.count("*") != 1:
        raise NotImplementedError(f"einops shim: pack needs one '*': {pattern}")
    star = axes.index("*")
    after = len(axes) - star - 1
    flat, shapes = [], []
    for t in tensors:
        end = t.dim() - after
        shapes.append(tuple(t.shape[star:end]))
        flat.append(t.reshape(*t.shape[:star], -1, *t.shape[end:]))
    return torch.cat(flat, dim=star), shapes
'''

CONFORMER = '''"""Shim of the `conformer` package: Matcha imports ConformerBlock for a decoder CosyVoice2 never builds."""
import torch


class ConformerBlock(torch.nn.Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("conformer shim: ConformerBlock is not used by CosyVoice2")
'''

PYLOGGER = '''"""Shim of matcha.utils.pylogger (theirs wraps the logger with lightning's rank_zero_only)."""
import logging


def get_pylogger(name=__name__):
    return logging.getLogger(name)
'''

DIFFUSERS_UTILS = '''"""Shim of diffusers.utils: the names diffusers v0.29.0's models/*.py import."""
from . import logging  # noqa: F401
from .import_utils import (is_torch_available, is_torch_npu_available, is_torch_version,  # noqa: F401
                           is_transformers_available, is_xformers_available)


def deprecate(*args, **kwargs):
    """diffusers warns about deprecated names here; nothing the computation depends on."""
    return None
'''

DIFFUSERS_LOGGING = '''import logging as _logging


def get_logger(name=None):
    return _logging.getLogger(name)
'''

DIFFUSERS_IMPORT_UTILS = '''import torch


def _version(v):
    return tuple(int(p) for p in v.split("+")[0].split(".")[:3] if p.isdigit())


def is_torch_available():
    return True


def is_torch_version(op, version):
    a, b = _version(torch.__version__), _version(version)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]


def is_torch_npu_available():
    return False


def is_xformers_available():
    return False


def is_transformers_available():
    return False
'''

DIFFUSERS_IMAGE_PROCESSOR = '''class IPAdapterMaskProcessor:
    """Shim: attention_processor.py only uses this name in IP-adapter processors CosyVoice never builds."""
'''

# Package __init__ files we write empty because theirs import whole libraries the decoder never touches.
EMPTY_INITS = ["matcha/utils/__init__.py", "diffusers/models/__init__.py"]


def files():
    """{path in the temporary tree: text} of every shim above (transformers comes from qwen2_shim.py)."""
    import qwen2_shim
    out = {"einops.py": EINOPS, "conformer.py": CONFORMER, "matcha/utils/pylogger.py": PYLOGGER,
           "diffusers/__init__.py": '__version__ = "0.29.0"\n', "diffusers/utils/__init__.py": DIFFUSERS_UTILS,
           "diffusers/utils/logging.py": DIFFUSERS_LOGGING, "diffusers/utils/import_utils.py": DIFFUSERS_IMPORT_UTILS,
           "diffusers/image_processor.py": DIFFUSERS_IMAGE_PROCESSOR,
           "transformers/__init__.py": qwen2_shim.TRANSFORMERS_INIT}
    for p in EMPTY_INITS:
        out[p] = ""
    return out


def install_weight_norm():
    """Give torch 1.13 torch 2.1's parametrizations.weight_norm; returns which one is in use."""
    import torch
    import torch.nn.utils.parametrizations as parametrizations
    if hasattr(parametrizations, "weight_norm"):
        return "torch"
    from torch.nn.utils import parametrize

    class _WeightNorm(torch.nn.Module):
        def __init__(self, dim=0):
            super().__init__()
            self.dim = -1 if dim is None else dim

        def forward(self, weight_g, weight_v):
            return torch._weight_norm(weight_v, weight_g, self.dim)

        def right_inverse(self, weight):
            return torch.norm_except_dim(weight, 2, self.dim), weight

    def weight_norm(module, name="weight", dim=0):
        parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
        return module

    parametrizations.weight_norm = weight_norm
    return "shim (torch 2.1's definition)"
