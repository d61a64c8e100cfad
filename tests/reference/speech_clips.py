"""The audio clips of the speech goldens (tests/goldens/speech/clips.safetensors), 16 kHz mono.

Every clip is made here, deterministically (seeded generators, espeak-ng, torchaudio's resampler), and
is stored as float32. All clips except `pink_noise_*` lie on the int16 grid (k / 32768, k in
[-32768, 32767]), so each could come from a 16-bit WAV; the pink noise is plain float32 on purpose.

Sources:
* speech: ../shared/data/audio/cosyvoice_prompt_emo_10004_b_0.wav (24 kHz int16, 3.35 s), and English
  sentences synthesised by espeak-ng (22.05 kHz int16). Both are widened to float64 (k / 32768),
  resampled to 16 kHz by torchaudio.functional.resample (its defaults: sinc_interp_hann,
  lowpass_filter_width 6, rolloff 0.99) in float64, then rounded to the int16 grid.
* silence: zeros (every fbank value is lhotse's floor log(2^-23)).
* white noise: N(0, 0.1^2), seeded, rounded to the grid.
* pink noise: white noise through Paul Kellet's economy 1/f filter (scipy.signal.lfilter with the
  3-pole approximation b=[0.049922035, -0.095993537, 0.050612699, -0.004408786],
  a=[1, -2.494956002, 2.017265875, -0.522189400]), scaled to RMS 0.15, float32.
* clipping: the prompt speech x4, saturated at the int16 limits (-1 and 32767/32768).
* odd lengths: cuts of the speech whose encoder frame counts M = ((n+80)//160 - 7)//2 sit on and
  around the chunk sizes (8 and 16 frames) and their multiples at every stack's rate, down to the
  shortest clip the authors' encoder accepts (M = 1: 10 fbank frames, 0.1 s).
"""

import os
import subprocess
from collections import OrderedDict

import numpy as np

SAMPLE_RATE = 16000
PROMPT_WAV = "cosyvoice_prompt_emo_10004_b_0.wav"
ESPEAK_TEXT = ("Please pick up the red block on the left and put it in the basket. Then close the top "
               "drawer of the cabinet, turn off the stove, and tell me when you are done.")
ESPEAK_VOICE = "en-us"

# Paul Kellet's economy pink-noise filter (poles/zeros of his 3-pole fit), as a direct-form IIR.
_PINK_B = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
_PINK_A = [1.0, -2.494956002, 2.017265875, -0.522189400]


def encoder_frames(samples):
    """M: encoder frames at 50 Hz of a clip of `samples` samples (fbank frames T = (n+80)//160, then
    the authors' Conv2dSubsampling keeps (T-7)//2)."""
    return ((samples + 80) // 160 - 7) // 2


def to_grid(x):
    """float64 in [-1, 1] -> float32 on the int16 grid (round half to even, saturating)."""
    return (np.clip(np.round(np.asarray(x, np.float64) * 32768.0), -32768, 32767) / 32768.0).astype(np.float32)


def _resample(x, rate):
    import torch
    import torchaudio.functional as AF
    y = AF.resample(torch.from_numpy(np.asarray(x, np.float64)), rate, SAMPLE_RATE)
    return y.numpy()


def _read_int16_wav(path):
    from scipy.io import wavfile
    rate, data = wavfile.read(path)
    if data.dtype != np.int16 or data.ndim != 1:
        raise ValueError(f"{path}: expected mono int16 PCM, got {data.dtype} with shape {data.shape}")
    return rate, data.astype(np.float64) / 32768.0


def prompt_speech(data_dir):
    rate, x = _read_int16_wav(os.path.join(data_dir, "audio", PROMPT_WAV))
    return to_grid(_resample(x, rate))


def espeak_speech(tmp_dir):
    path = os.path.join(tmp_dir, "espeak.wav")
    subprocess.run(["espeak-ng", "-v", ESPEAK_VOICE, "-w", path, ESPEAK_TEXT], check=True)
    rate, x = _read_int16_wav(path)
    return to_grid(_resample(x, rate))


def espeak_version():
    out = subprocess.run(["espeak-ng", "--version"], check=True, capture_output=True, text=True).stdout
    return out.split("Data at")[0].strip()  # "eSpeak NG text-to-speech: 1.51"


def pink_noise(n, seed):
    from scipy.signal import lfilter
    w = np.random.default_rng(seed).standard_normal(n + 4000)
    p = lfilter(_PINK_B, _PINK_A, w)[4000:]  # drop the filter's start-up transient
    return (p * (0.15 / np.sqrt(np.mean(p ** 2)))).astype(np.float32)


def make_clips(data_dir, tmp_dir):
    """OrderedDict name -> (pcm float32 [n], info dict with kind/seconds/samples/seed/source)."""
    prompt = prompt_speech(data_dir)
    espeak = espeak_speech(tmp_dir)
    if len(espeak) < 8 * SAMPLE_RATE:
        raise RuntimeError(f"espeak-ng speech is {len(espeak) / SAMPLE_RATE:.2f} s, shorter than 8 s")
    clips = OrderedDict()

    def add(name, kind, pcm, source, seed=None):
        pcm = np.ascontiguousarray(pcm, dtype=np.float32)
        clips[name] = (pcm, {"name": name, "kind": kind, "samples": int(len(pcm)),
                             "seconds": round(len(pcm) / SAMPLE_RATE, 6), "seed": seed,
                             "encoder_frames": int(encoder_frames(len(pcm))), "source": source})

    add("speech_prompt", "speech", prompt, f"{PROMPT_WAV} resampled 24000->16000")
    add("speech_espeak_8s", "speech", espeak[:8 * SAMPLE_RATE], "espeak-ng, first 8 s")
    add("silence_1s", "silence", np.zeros(SAMPLE_RATE, np.float32), "zeros")
    rng = np.random.default_rng(20250101)
    add("white_noise_1p2s", "noise", to_grid(rng.normal(0.0, 0.1, 19200)), "N(0, 0.1^2) on the int16 grid",
        seed=20250101)
    add("pink_noise_1p5s", "noise", pink_noise(24000, 20250102), "Kellet pink noise, RMS 0.15, float32",
        seed=20250102)
    clipped = np.clip(np.round(prompt[26000:50000].astype(np.float64) * 4 * 32768), -32768, 32767) / 32768
    add("clipping_1p5s", "clipping", clipped, "speech_prompt[26000:50000] x4, saturated at int16")
    # Odd lengths: (samples, source clip, offset). M = encoder frames; chunk 8 (small) and 16 (wide).
    cuts = [(1600, "prompt", 8000),     # 0.1 s: M = 1, shorter than one chunk at every stack's rate
            (1601, "espeak", 30011),    # M = 1
            (1800, "prompt", 9000),     # M = 2
            (2400, "espeak", 51000),    # M = 4
            (2900, "prompt", 30500),    # M = 5
            (3560, "espeak", 16000),    # M = 7
            (3700, "prompt", 4321),     # M = 8: one whole chunk (small)
            (4000, "espeak", 70001),    # M = 9
            (5599, "prompt", 12345),    # M = 14
            (6100, "espeak", 90000),    # M = 15
            (6400, "prompt", 25000),    # M = 16: one whole chunk (wide)
            (6500, "espeak", 100007),   # M = 17
            (22050, "espeak", 1000),    # M = 65
            (37123, "prompt", 7000)]    # M = 112: past wide's left context (64 + 16 frames)
    sources = {"prompt": prompt, "espeak": espeak}
    for n, src, off in cuts:
        add(f"odd_{n}", "speech", sources[src][off:off + n],
            f"{'speech_prompt' if src == 'prompt' else 'espeak-ng speech'}[{off}:{off + n}]")
    for pcm, info in clips.values():
        if info["encoder_frames"] < 1:
            raise RuntimeError(f"clip {info['name']}: {info['samples']} samples give no encoder frame")
    return clips
