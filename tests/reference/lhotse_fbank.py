#!/usr/bin/python3
"""lhotse 1.30.3's own fbank, `Fbank(FbankConfig(num_mel_bins=128)).extract(samples, 16000)`, in float64.

Nothing of lhotse is committed here. `load()` extracts, from tag v1.30.3 of the lhotse mirror
(`--lhotse-mirror` / $ELLSA_LHOTSE_MIRROR, default /work/.mirror/lhotse-speech+lhotse/repo),
  lhotse/features/kaldi/layers.py       (Wav2Win, Wav2FFT, Wav2LogFilterBank, mel banks, windows)
  lhotse/features/kaldi/extractors.py   (FbankConfig, Fbank and its extract())
into a temporary `lhotse` package and imports them. Their `Fbank.extract` is what runs.

What is shimmed, and why: lhotse's package `__init__` (and `lhotse/features/__init__`) import the whole
library (audio backends, cuts, datasets, click, tqdm, ...), which Debian lacks and which the fbank never
touches; so the package `__init__` files are empty, and the two modules those files import are replaced:
  lhotse/utils.py          EPSILON = 1e-10, Seconds = float, asdict_nonull (dataclass -> dict without
                           None values), compute_num_frames_from_samples ((n + hop//2) // hop, used
                           only by extract_batch, which is not called)
  lhotse/features/base.py  FeatureExtractor (stores the config dataclass, default config_type()) and
                           register_extractor (returns the class unchanged)

float64: lhotse builds its window, mel banks and epsilon with torch's default dtype (float32) and
runs in the dtype of the samples. `fbank64` builds the same `Fbank` with torch's default dtype set to
float64 (so window and banks are computed in float64), and extracts from float64 samples; the floor
stays `torch.finfo(torch.float).eps` = 2^-23 (lhotse names float32's epsilon explicitly). `fbank32` is
lhotse's real float32 path (default dtype, float32 samples); `python3 lhotse_fbank.py` compares both.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import authors_mirror  # noqa: E402

MIRROR_ENV = "ELLSA_LHOTSE_MIRROR"
MIRROR_DEFAULT = "/work/.mirror/lhotse-speech+lhotse/repo"
TAG = "v1.30.3"
FILES = {"lhotse/features/kaldi/layers.py": "lhotse/features/kaldi/layers.py",
         "lhotse/features/kaldi/extractors.py": "lhotse/features/kaldi/extractors.py"}
SAMPLE_RATE = 16000
MEL_BINS = 128

_UTILS_SHIM = '''"""Shim of lhotse.utils: the four names lhotse/features/kaldi/{layers,extractors}.py import."""
from dataclasses import asdict

EPSILON = 1e-10
Seconds = float


def asdict_nonull(dclass):
    return {k: v for k, v in asdict(dclass).items() if v is not None}


def compute_num_frames_from_samples(num_samples, frame_shift, sampling_rate):
    hop = round(frame_shift * sampling_rate)
    return int((num_samples + hop // 2) // hop)
'''

_BASE_SHIM = '''"""Shim of lhotse.features.base: the extractor base class and the registry decorator."""
from dataclasses import is_dataclass


class FeatureExtractor:
    config_type = None

    def __init__(self, config=None):
        if config is None:
            config = self.config_type()
        assert is_dataclass(config), "The feature configuration object must be a dataclass."
        self.config = config


def register_extractor(cls):
    return cls
'''

SHIMS = {"lhotse/__init__.py": "", "lhotse/features/__init__.py": "",
         "lhotse/features/kaldi/__init__.py": "", "lhotse/utils.py": _UTILS_SHIM,
         "lhotse/features/base.py": _BASE_SHIM}


class Lhotse:
    def __init__(self, mirror, commit, extractors):
        self.mirror, self.commit, self.extractors = mirror, commit, extractors

    def provenance(self):
        return {"lhotse_repo": "lhotse-speech/lhotse", "lhotse_tag": TAG, "lhotse_commit": self.commit,
                "lhotse_files": ",".join(FILES)}


_LHOTSE = None


def load(mirror=None):
    """Extract lhotse's fbank modules and import them (once per process)."""
    global _LHOTSE
    if _LHOTSE is None:
        mirror = authors_mirror.resolve(mirror, MIRROR_DEFAULT, MIRROR_ENV, TAG, "lhotse-speech/lhotse")
        authors_mirror.extract(mirror, TAG, FILES, SHIMS, prefix="lhotse-")
        import importlib
        extractors = importlib.import_module("lhotse.features.kaldi.extractors")
        _LHOTSE = Lhotse(mirror, authors_mirror.commit_of(mirror, TAG), extractors)
    return _LHOTSE


def _extractor(dtype):
    import torch
    ex = load().extractors
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        fbank = ex.Fbank(ex.FbankConfig(num_mel_bins=MEL_BINS))
    finally:
        torch.set_default_dtype(previous)
    return fbank


_F64 = None
_F32 = None


def fbank64(pcm):
    """[n] samples in [-1, 1] -> [frames, 128] float64, lhotse's extract() run in float64."""
    global _F64
    if _F64 is None:
        import torch
        _F64 = _extractor(torch.float64)
    return _F64.extract(np.asarray(pcm, dtype=np.float64), SAMPLE_RATE)


def fbank32(pcm):
    """[n] samples -> [frames, 128] float32, lhotse's extract() exactly as a user runs it."""
    global _F32
    if _F32 is None:
        import torch
        _F32 = _extractor(torch.float32)
    return _F32.extract(np.asarray(pcm, dtype=np.float32), SAMPLE_RATE)


def frame_count(samples):
    """lhotse's snip_edges=False frame count: (n + 80) // 160."""
    return (samples + 80) // 160


def rel_l2(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def main():
    ap = argparse.ArgumentParser(description="Compare lhotse's float32 fbank with the float64 reference.")
    ap.add_argument("--lhotse-mirror", default=None)
    args = ap.parse_args()
    load(args.lhotse_mirror)
    rng = np.random.default_rng(1)
    worst = 0.0
    for n in (1600, 1601, 5599, 16000, 37123):
        pcm = (np.round(rng.normal(0, 0.1, n) * 32768).clip(-32768, 32767) / 32768).astype(np.float32)
        a, b = fbank32(pcm), fbank64(pcm)
        assert a.shape == b.shape == (frame_count(n), MEL_BINS), (a.shape, b.shape)
        worst = max(worst, rel_l2(a, b))
        print(f"n={n:6d} frames={a.shape[0]:4d} rel_l2(float32 lhotse, float64)={rel_l2(a, b):.2e} "
              f"max_abs={np.abs(a - b).max():.2e}")
    print(f"worst rel_l2 {worst:.2e}")


if __name__ == "__main__":
    main()
