#!/usr/bin/python3
"""Goldens for the WAV input's resampling (src/Ellsa.Runtime/Codecs/Speech/SincResampler.cs): torchaudio's
own `torchaudio.functional.resample` with its defaults (Hann-windowed sinc, lowpass_filter_width 6,
rolloff 0.99), run in float64, which is what the authors' evaluation applies to audio not at 16 kHz.

Writes tests/goldens/resample/resample.safetensors:
  <case>.input  F32 [n]  a fresh random signal (seeded), at <case>'s source rate
  <case>.output F32 [m]  torchaudio.functional.resample(input widened to float64, from, to)
  prompt.output F32 [m]  ../shared/data/audio/cosyvoice_prompt_emo_10004_b_0.wav (24 kHz int16) as
                         torchaudio.load reads it (int16 / 32768), resampled to 16 kHz in float64
The metadata lists every case as "from,to,seed" and the torchaudio version.

No shims: torchaudio is Debian's python3-torchaudio; nothing of the authors' code is involved.
Run: /usr/bin/python3 tests/reference/make_resample_goldens.py  (from the repository root)
"""

import json
import os
import sys

import numpy as np
import torch
import torchaudio

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "goldens", "resample", "resample.safetensors")
PROMPT = os.path.join(ROOT, "..", "shared", "data", "audio", "cosyvoice_prompt_emo_10004_b_0.wav")

# (name, from, to, samples): the usual recording rates to 16 kHz, up- and downsampling, a target
# other than 16 kHz, and signals of a handful of samples (shorter than the filter).
CASES = [
    ("r24000", 24000, 16000, 4801),
    ("r44100", 44100, 16000, 8821),
    ("r48000", 48000, 16000, 4999),
    ("r22050", 22050, 16000, 3307),
    ("r32000", 32000, 16000, 3201),
    ("r8000", 8000, 16000, 1601),
    ("r11025", 11025, 16000, 2205),
    ("r12000", 12000, 16000, 1203),
    ("to8000", 16000, 8000, 2001),
    ("to48000", 44100, 48000, 2205),
    ("short1", 24000, 16000, 1),
    ("short5", 44100, 16000, 5),
]


def resample64(x32, src, dst):
    x = torch.from_numpy(np.asarray(x32, dtype=np.float64))[None]
    return torchaudio.functional.resample(x, src, dst)[0].numpy().astype(np.float32)


def main():
    tensors, cases = {}, {}
    for seed, (name, src, dst, n) in enumerate(CASES, start=1000):
        rng = np.random.default_rng(seed)
        # Noise plus a few tones, some above the new Nyquist frequency, so the anti-alias filter matters.
        t = np.arange(n) / src
        x = 0.3 * rng.standard_normal(n)
        for _ in range(3):
            x += 0.2 * np.sin(2 * np.pi * rng.uniform(50, src / 2) * t + rng.uniform(0, 2 * np.pi))
        x = np.clip(x, -1, 1).astype(np.float32)
        tensors[name + ".input"] = x
        tensors[name + ".output"] = resample64(x, src, dst)
        cases[name] = f"{src},{dst},{seed}"
    wav, rate = torchaudio.load(PROMPT)
    assert rate == 24000 and wav.shape[0] == 1, (rate, wav.shape)
    tensors["prompt.output"] = resample64(wav[0].numpy(), rate, 16000)
    cases["prompt"] = f"{rate},16000,file:{os.path.basename(PROMPT)}"
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    safetensors_io.write_file(OUT, tensors, metadata={"cases": json.dumps(cases), "torchaudio": torchaudio.__version__,
                                                      "torch": torch.__version__})
    print(f"wrote {OUT}: {len(cases)} cases, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
