#!/usr/bin/python3
"""Writes tests/goldens/speech (see its README.md): the clips with lhotse's fbank, and per encoder
config the authors' encoder outputs and projector rows, all computed in float64.

  /usr/bin/python3 tests/reference/make_speech_goldens.py            # clips, then small/ and wide/
  /usr/bin/python3 tests/reference/make_speech_goldens.py --only clips
  /usr/bin/python3 tests/reference/make_speech_goldens.py --lookahead small   # the issue's lookahead claim
  /usr/bin/python3 tests/reference/make_speech_goldens.py --wav /tmp/clips    # the clips as WAV files

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


def write_wavs(out_dir, wav_dir):
    """Each stored clip as a 16 kHz mono WAV (not committed; for CLI runs): 16-bit PCM for the clips on
    the int16 grid, 32-bit float for the others. Read back, each gives the stored samples exactly."""
    from scipy.io import wavfile
    tensors, _, meta = safetensors_io.read_file(os.path.join(out_dir, "clips.safetensors"))
    os.makedirs(wav_dir, exist_ok=True)
    for c in json.loads(meta["clips"]):
        pcm = tensors[f"{c['name']}.pcm"]
        k = pcm.astype(np.float64) * 32768.0
        data = k.astype(np.int16) if np.array_equal(k, np.round(k)) and k.max(initial=0) < 32768 else pcm
        wavfile.write(os.path.join(wav_dir, f"{c['name']}.wav"), speech_clips.SAMPLE_RATE, data)
    print(f"wrote {len(json.loads(meta['clips']))} WAV files to {wav_dir}")


def read_clips(out_dir):
    tensors, _, meta = safetensors_io.read_file(os.path.join(out_dir, "clips.safetensors"))
    return [(c["name"], tensors[f"{c['name']}.fbank"]) for c in json.loads(meta["clips"])]


def write_outputs(out_dir, config_name):
    """Their encoder in float64 on every clip's stored fbank; the same model run in float32 gives the
    fp32 margin (relative L2 against float64) recorded in the metadata."""
    import speech_encoder_reference as ser
    model_dir = os.path.join(out_dir, config_name, "model")
    enc = ser.load_model_dir(model_dir)
    enc32 = ser.load_model_dir(model_dir, dtype="float32")
    tensors, rows, margin = OrderedDict(), [], [0.0, 0.0]
    for name, fbank in read_clips(out_dir):
        encoder, embeddings = ser.encode(enc, fbank.astype(np.float64))
        again = ser.encode(enc, fbank.astype(np.float64))
        if not (np.array_equal(encoder, again[0]) and np.array_equal(embeddings, again[1])):
            raise RuntimeError(f"{config_name}/{name}: two float64 runs differ (eval mode not deterministic)")
        e32, y32 = ser.encode(enc32, fbank)
        margin = [max(margin[0], lhotse_fbank.rel_l2(e32, encoder)), max(margin[1], lhotse_fbank.rel_l2(y32, embeddings))]
        tensors[f"{name}.encoder"] = encoder.astype(np.float32)
        tensors[f"{name}.embeddings"] = embeddings.astype(np.float32)
        rows.append((name, encoder.shape[0], embeddings.shape[0]))
    meta = {"config": config_name, "model": f"{config_name}/model", "clips": "clips.safetensors",
            "precision": "float64 (authors' modules .double(), weights as stored), stored f32",
            "fp32_rel_l2_encoder": f"{margin[0]:.2e}", "fp32_rel_l2_embeddings": f"{margin[1]:.2e}",
            **enc.authors.provenance()}
    path = os.path.join(out_dir, config_name, "outputs.safetensors")
    safetensors_io.write_file(path, tensors, metadata=meta)
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB): " +
          ", ".join(f"{n} M={m} K={k}" for n, m, k in rows))
    print(f"  their model in float32 vs float64, worst relative L2 over the clips: encoder {margin[0]:.2e}, "
          f"embeddings {margin[1]:.2e}")


def lookahead_samples(r, chunk, seg_size=10):
    """The issue's claim: embedding row r depends on exactly the first 320*J + 2520 samples,
    J = C*floor((seg*r + seg - 1) / C) + C - 1 (the last encoder frame of the chunk holding row r's last
    frame; the subsampling needs fbank frames up to 2J + 14 and frame f ends at sample 160 f + 280)."""
    j = chunk * ((seg_size * r + seg_size - 1) // chunk) + chunk - 1
    return 320 * j + 2520


def check_lookahead(out_dir, config_name, clip="speech_espeak_8s", rows=(0, 1, 2, 3, 4, 5, 9, 17, 30)):
    """Truncate the clip at the claimed sample count n and at n - 1; run lhotse's fbank and their
    encoder in float64 on both: row r must equal the full clip's row r bit for bit in the first case
    and differ in the second. Removing one sample changes row r only a little (the reflected end
    padding replaces it by its neighbour), so the full clip is also run with sample n - 1 set to 0.5
    (row r moves, if only a little: the Povey window is 0 at its last sample, so sample n - 1 acts
    through the frame mean) and with sample n set to 0.5 (row r stays bit-identical). Prints a line per row."""
    import speech_encoder_reference as ser
    enc = ser.load_model_dir(os.path.join(out_dir, config_name, "model"))
    clips, _, _ = safetensors_io.read_file(os.path.join(out_dir, "clips.safetensors"))
    pcm = clips[f"{clip}.pcm"]
    chunk, seg = enc.section["chunk_size"], enc.section["seg_size"]

    def rows_of(x):
        return ser.encode(enc, lhotse_fbank.fbank64(x))[1]

    def poked(i):
        x = pcm.copy()
        x[i] = 0.5
        return rows_of(x)

    full = rows_of(pcm)
    results = []
    for r in rows:
        n = lookahead_samples(r, chunk, seg)
        if n + 1 > len(pcm):
            continue
        d = [lhotse_fbank.rel_l2(y[r], full[r]) for y in (rows_of(pcm[:n]), rows_of(pcm[:n - 1]), poked(n - 1), poked(n))]
        ok = d[0] == 0.0 and d[1] > 1e-12 and d[2] > 1e-12 and d[3] == 0.0  # float64 rounding is ~1e-16
        late = (n - speech_clips.SAMPLE_RATE * (r + 1) * seg // 50) / speech_clips.SAMPLE_RATE
        results.append((r, n, d, ok))
        print(f"  {config_name} row {r:2d} needs {n:6d} samples ({1000 * late:5.1f} ms past its end): cut at n "
              f"{d[0]:.0e}, at n-1 {d[1]:.1e}; sample n-1 poked {d[2]:.1e}, sample n poked {d[3]:.0e} "
              f"{'OK' if ok else 'CLAIM FAILS'}")
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=GOLDENS)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared", "data"),
                    help="the shared data folder (holds audio/%s)" % speech_clips.PROMPT_WAV)
    ap.add_argument("--only", choices=("clips",) + CONFIGS, action="append")
    ap.add_argument("--wav", metavar="DIR", help="write the stored clips as WAV files to DIR (nothing else)")
    ap.add_argument("--lookahead", choices=CONFIGS, action="append",
                    help="check the issue's streaming lookahead claim on this config (printed, nothing written)")
    args = ap.parse_args()
    if args.wav:
        write_wavs(args.out, args.wav)
        return
    if args.lookahead:
        results = [x for k in args.lookahead for x in check_lookahead(args.out, k)]
        sys.exit(0 if all(ok for *_, ok in results) else 1)  # relative L2 of row r against the full clip's
    only = args.only or ["clips", *CONFIGS]
    if "clips" in only:
        write_clips(args.out, args.data)
    for k in CONFIGS:
        if k in only:
            write_outputs(args.out, k)


if __name__ == "__main__":
    main()
