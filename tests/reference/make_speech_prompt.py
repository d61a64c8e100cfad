#!/usr/bin/python3
"""Make `speech_prompt.safetensors` (the speech decoder's fixed conditioning) from the released CosyVoice2
assets and the evaluation's prompt wav, exactly as evaluate_speech.py (lines ~144-153) computes it:

  prompt_audio, fs = torchaudio.load(".../wav/emo_10004_b_0.wav")              # 24 kHz mono
  prompt_speech_feat = frontend._extract_speech_feat(prompt_audio)             # matcha mel, [1, Nf, 80]
  prompt_audio = torchaudio.transforms.Resample(orig_freq=24000, new_freq=16000)(prompt_audio)
  spk_embedding = frontend._extract_spk_embedding(prompt_audio)                # CAM++ (ONNX), [1, 192]
  prompt_speech_token = frontend._extract_speech_token(prompt_audio)           # S3 tokenizer v2 (ONNX), [1, Np]

  /usr/bin/python3 tests/reference/make_speech_prompt.py --assets DIR/CosyVoice2-0.5B \
      [--wav ../shared/data/audio/cosyvoice_prompt_emo_10004_b_0.wav] \
      (--noise rand_noise.npy | --noise-seed 1986) [--noise-frames 15000] --out MODEL_DIR/speech_prompt.safetensors

THE AUTHORS' frontend methods run (CosyVoiceFrontEnd._extract_speech_feat / _extract_spk_embedding /
_extract_speech_token from cosyvoice/cli/frontend.py, with matcha.utils.audio.mel_spectrogram as the
feature extractor with the release yaml's feat_extractor settings), on an instance that holds only what
those three methods use (the feature extractor and the two ONNX sessions): the class's __init__ also
builds the text tokenizer and text normalisers, which the prompt does not need.

Requirements (this script stops with one line naming what is missing):
* the CosyVoice2-0.5B asset folder (`campplus.onnx`, `speech_tokenizer_v2.onnx`; `cosyvoice.yaml` is read
  only to check its feat_extractor settings) -- NOT present in this repository or on the build machines;
* Python packages onnxruntime (the two ONNX models), openai-whisper (`whisper.log_mel_spectrogram`, the
  tokenizer's 128-bin input) and librosa (matcha's mel filterbank). Debian has none of them (pip install
  onnxruntime openai-whisper librosa). frontend.py also imports inflect, WeTextProcessing (`tn`) and
  regex for text normalisation, which the prompt never calls: those three are replaced by empty stubs
  when absent.

`cfm_noise`: the flow's start noise `rand_noise` = torch.randn(1, 80, 15000) drawn when
CausalConditionalCFM is constructed inside the ELLSA process; it is in no checkpoint and depends on all
RNG use before it, so only a dump from that process reproduces the authors' audio exactly:
  torch.save(model.model.speech_expert.generator.flow.decoder.rand_noise, "rand_noise.pt")   # or np.save
and pass it with --noise (.pt, .npy or .safetensors with one tensor). --noise-seed N draws
torch.manual_seed(N); torch.randn(1, 80, frames) instead: the same distribution, not the same audio.
"""

import argparse
import functools
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_WAV = os.path.join(ROOT, "..", "shared", "data", "audio", "cosyvoice_prompt_emo_10004_b_0.wav")
ASSETS = ("campplus.onnx", "speech_tokenizer_v2.onnx")
# feat_extractor of the release's cosyvoice.yaml (upstream examples/libritts/cosyvoice2/conf/cosyvoice2.yaml).
FEAT = {"n_fft": 1920, "num_mels": 80, "sampling_rate": 24000, "hop_size": 480, "win_size": 1920, "fmin": 0,
        "fmax": 8000, "center": False}
STUBS = {"inflect.py": "class engine:\n    pass\n",
         "tn/__init__.py": "", "tn/chinese/__init__.py": "", "tn/english/__init__.py": "",
         "tn/chinese/normalizer.py": "class Normalizer:\n    def __init__(self, *a, **k):\n        pass\n",
         "tn/english/normalizer.py": "class Normalizer:\n    def __init__(self, *a, **k):\n        pass\n",
         "regex.py": "from re import *  # noqa: F401,F403 (stub: text normalisation only)\n"}


def fail(message):
    sys.exit(f"error: {message}")


def check_assets(path):
    if not path or not os.path.isdir(path):
        fail(f"--assets {path or '(missing)'}: not a folder; give the released CosyVoice2-0.5B asset folder "
             f"(with {', '.join(ASSETS)}); it is not part of this repository")
    missing = [f for f in ASSETS if not os.path.isfile(os.path.join(path, f))]
    if missing:
        fail(f"{path}: missing {', '.join(missing)} (the released CosyVoice2-0.5B assets)")
    yaml = os.path.join(path, "cosyvoice.yaml")
    if os.path.isfile(yaml):
        with open(yaml) as fh:
            text = fh.read()
        block = text[text.find("feat_extractor:"):]
        for key in ("n_fft", "hop_size", "win_size", "fmax"):
            want = f"{key}: {FEAT[key]}"
            if want not in block[:600]:
                fail(f"{yaml}: feat_extractor does not say `{want}`; update FEAT in make_speech_prompt.py")


def check_packages():
    import importlib.util
    missing = [p for p in ("onnxruntime", "whisper", "librosa") if importlib.util.find_spec(p) is None]
    if missing:
        fail(f"missing Python packages {', '.join(missing)} (pip install "
             f"{' '.join('openai-whisper' if p == 'whisper' else p for p in missing)}): CAM++ and the speech "
             "tokenizer are ONNX models, the tokenizer reads whisper's log-mel, matcha's mel uses librosa")


def load_noise(args):
    import torch
    if args.noise:
        path = args.noise
        if not os.path.isfile(path):
            fail(f"--noise {path}: no such file")
        if path.endswith(".npy"):
            noise = np.load(path)
        elif path.endswith(".safetensors"):
            tensors, _, _ = safetensors_io.read_file(path)
            if len(tensors) != 1:
                fail(f"--noise {path}: holds {len(tensors)} tensors, expected one")
            noise = next(iter(tensors.values()))
        else:
            noise = torch.load(path, map_location="cpu").float().numpy()
        noise = np.asarray(noise, dtype=np.float32)
        if noise.ndim != 3 or noise.shape[:2] != (1, 80):
            fail(f"--noise {path}: shape {list(noise.shape)}, expected [1, 80, frames]")
        return noise
    torch.manual_seed(args.noise_seed)
    return torch.randn(1, 80, args.noise_frames).numpy()


def prompt_tensors(args):
    import speech_decoder_reference as sr
    a = sr.load_authors(args.mirror, args.diffusers_mirror)
    import importlib.util
    for rel, text in STUBS.items():
        if importlib.util.find_spec(rel.split("/")[0].removesuffix(".py")) is None:
            path = os.path.join(a.tree, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as fh:
                fh.write(text)
    import onnxruntime
    import torch
    import torchaudio
    frontend_mod = importlib.import_module("cosyvoice.cli.frontend")
    audio = importlib.import_module("matcha.utils.audio")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    frontend = frontend_mod.CosyVoiceFrontEnd.__new__(frontend_mod.CosyVoiceFrontEnd)
    frontend.device = torch.device("cpu")
    frontend.feat_extractor = functools.partial(audio.mel_spectrogram, **FEAT)
    frontend.campplus_session = onnxruntime.InferenceSession(
        os.path.join(args.assets, "campplus.onnx"), sess_options=options, providers=["CPUExecutionProvider"])
    frontend.speech_tokenizer_session = onnxruntime.InferenceSession(
        os.path.join(args.assets, "speech_tokenizer_v2.onnx"), sess_options=options,
        providers=["CPUExecutionProvider"])

    if not os.path.isfile(args.wav):
        fail(f"--wav {args.wav}: no such file")
    prompt_audio, fs = torchaudio.load(args.wav)
    if fs != 24000 or prompt_audio.shape[0] != 1:
        fail(f"{args.wav}: {prompt_audio.shape[0]} channel(s) at {fs} Hz; the evaluation's prompt is mono 24 kHz "
             "(it resamples with a fixed 24000 -> 16000)")
    feat, _ = frontend._extract_speech_feat(prompt_audio)
    audio16k = torchaudio.transforms.Resample(orig_freq=24000, new_freq=16000)(prompt_audio)
    embedding = frontend._extract_spk_embedding(audio16k)
    token, _ = frontend._extract_speech_token(audio16k)
    return {"prompt_token": token.numpy().astype(np.int32), "prompt_feat": feat.numpy().astype(np.float32),
            "embedding": embedding.numpy().astype(np.float32)}, a.provenance


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--assets", help="the released CosyVoice2-0.5B folder (campplus.onnx, speech_tokenizer_v2.onnx)")
    ap.add_argument("--wav", default=DEFAULT_WAV, help="the prompt (mono 24 kHz); default: the evaluation's")
    noise = ap.add_mutually_exclusive_group()
    noise.add_argument("--noise", help="rand_noise dumped from the ELLSA process (.pt, .npy, .safetensors)")
    noise.add_argument("--noise-seed", type=int, help="draw torch.randn(1, 80, frames) after torch.manual_seed(N)")
    ap.add_argument("--noise-frames", type=int, default=15000, help="with --noise-seed (default 15000 = 300 s)")
    ap.add_argument("--out", required=True, help="output .safetensors")
    ap.add_argument("--mirror")
    ap.add_argument("--diffusers-mirror")
    args = ap.parse_args()
    if args.noise is None and args.noise_seed is None:
        fail("give --noise FILE (the ELLSA process's rand_noise, for the authors' exact audio) or --noise-seed N")
    check_assets(args.assets)
    check_packages()
    noise = load_noise(args)
    tensors, provenance = prompt_tensors(args)
    tensors["cfm_noise"] = noise
    dtypes = {"prompt_token": "I32", "prompt_feat": "F32", "embedding": "F32", "cfm_noise": "F32"}
    meta = dict(provenance, generator="tests/reference/make_speech_prompt.py", wav=os.path.basename(args.wav),
                noise=args.noise or f"torch.manual_seed({args.noise_seed}); torch.randn(1, 80, {args.noise_frames})")
    safetensors_io.write_file(args.out, tensors, dtypes, metadata=meta)
    print(f"{args.out}: prompt_token {list(tensors['prompt_token'].shape)}, prompt_feat "
          f"{list(tensors['prompt_feat'].shape)}, embedding {list(tensors['embedding'].shape)}, "
          f"cfm_noise {list(noise.shape)}")


if __name__ == "__main__":
    main()
