#!/usr/bin/python3
"""Writes tests/goldens/speech (see its README.md): the clips with lhotse's fbank, and per encoder
config the authors' encoder outputs and projector rows, all computed in float64.

  /usr/bin/python3 tests/reference/make_speech_goldens.py            # clips, then small/ and wide/
  /usr/bin/python3 tests/reference/make_speech_goldens.py --only clips

1. clips.safetensors: for each clip N (speech_clips.py) `N.pcm` F32 [n] and `N.fbank` F32 [T, 128] =
   lhotse 1.30.3's own Fbank(FbankConfig(num_mel_bins=128)).extract run in float64 (lhotse_fbank.py)
   on the stored float32 samples, rounded to float32. __metadata__: "clips" (JSON list of
   name/kind/samples/seconds/seed/encoder_frames/source), the lhotse and espeak-ng versions.
2. K/outputs.safetensors for K in small, wide (their model directories written before by
   make_speech_encoder.py): `N.encoder` F32 [M, max(encoder_dim)] and `N.embeddings` F32
   [ceil(M / seg_size), output_dim], from the authors' MultiKDModel.forward_encoder and the projector
   run in float64 on the STORED float32 fbank of clips.safetensors (speech_encoder_reference.encode).
"""

import argparse
import json
import os
import sys
import tempfile
from collections import OrderedDict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lhotse_fbank  # noqa: E402
import safetensors_io  # noqa: E402
import speech_clips  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
GOLDENS = os.path.join(ROOT, "tests", "goldens", "speech")
CONFIGS = ("small", "wide")


def write_clips(out_dir, data_dir):
    lh = lhotse_fbank.load()
    with tempfile.TemporaryDirectory(prefix="speech-clips-") as tmp:
        clips = speech_clips.make_clips(data_dir, tmp)
    tensors, infos, worst32 = OrderedDict(), [], 0.0
    for name, (pcm, info) in clips.items():
        fb = lhotse_fbank.fbank64(pcm)
        if fb.shape != (lhotse_fbank.frame_count(len(pcm)), lhotse_fbank.MEL_BINS):
            raise RuntimeError(f"clip {name}: fbank shape {fb.shape}")
        worst32 = max(worst32, lhotse_fbank.rel_l2(lhotse_fbank.fbank32(pcm), fb))
        tensors[f"{name}.pcm"] = pcm
        tensors[f"{name}.fbank"] = fb.astype(np.float32)
        info["fbank_frames"] = int(fb.shape[0])
        infos.append(info)
        print(f"  {name:20s} {info['kind']:8s} n={len(pcm):6d} T={fb.shape[0]:4d} M={info['encoder_frames']:3d}")
    meta = {"clips": json.dumps(infos), "sample_rate": str(speech_clips.SAMPLE_RATE),
            "fbank": "lhotse Fbank(FbankConfig(num_mel_bins=128)).extract, float64, stored f32",
            "espeak_ng": speech_clips.espeak_version(), **lh.provenance()}
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "clips.safetensors")
    safetensors_io.write_file(path, tensors, metadata=meta)
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB, {len(infos)} clips); "
          f"lhotse float32 vs float64 fbank: worst rel L2 {worst32:.2e}")


def read_clips(out_dir):
    tensors, _, meta = safetensors_io.read_file(os.path.join(out_dir, "clips.safetensors"))
    return [(c["name"], tensors[f"{c['name']}.fbank"]) for c in json.loads(meta["clips"])]


def write_outputs(out_dir, config_name):
    import speech_encoder_reference as ser
    model_dir = os.path.join(out_dir, config_name, "model")
    enc = ser.load_model_dir(model_dir)
    tensors, rows = OrderedDict(), []
    for name, fbank in read_clips(out_dir):
        encoder, embeddings = ser.encode(enc, fbank.astype(np.float64))
        again = ser.encode(enc, fbank.astype(np.float64))
        if not (np.array_equal(encoder, again[0]) and np.array_equal(embeddings, again[1])):
            raise RuntimeError(f"{config_name}/{name}: two float64 runs differ (eval mode not deterministic)")
        tensors[f"{name}.encoder"] = encoder.astype(np.float32)
        tensors[f"{name}.embeddings"] = embeddings.astype(np.float32)
        rows.append((name, encoder.shape[0], embeddings.shape[0]))
    meta = {"config": config_name, "model": f"{config_name}/model", "clips": "clips.safetensors",
            "precision": "float64 (authors' modules .double(), weights as stored), stored f32",
            **enc.authors.provenance()}
    path = os.path.join(out_dir, config_name, "outputs.safetensors")
    safetensors_io.write_file(path, tensors, metadata=meta)
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB): " +
          ", ".join(f"{n} M={m} K={k}" for n, m, k in rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=GOLDENS)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared", "data"),
                    help="the shared data folder (holds audio/%s)" % speech_clips.PROMPT_WAV)
    ap.add_argument("--only", choices=("clips",) + CONFIGS, action="append")
    args = ap.parse_args()
    only = args.only or ["clips", *CONFIGS]
    if "clips" in only:
        write_clips(args.out, args.data)
    for k in CONFIGS:
        if k in only:
            write_outputs(args.out, k)


if __name__ == "__main__":
    main()
