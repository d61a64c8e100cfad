#!/usr/bin/python3
"""The speech encoder at the released size, the engine beside the authors' PyTorch, in one run,
interleaved, on the same random weights and the same cores.

  /usr/bin/python3 perf/speech/side_by_side.py [--rounds 3] [--threads 2] [--seconds 20] [--work DIR] [--before DLL]

Needs Debian's python3-torch and python3-numpy, libopenblas0-pthread (PyTorch's BLAS for this run:
Debian's torch links the reference libblas.so.3 unless told otherwise), and the authors' repository
mirrored as for the speech goldens.

1. Writes the release encoder (SpeechEncoderConfig's defaults = the authors' get_speech_encoder:
   1280-d, 7 stacks, 13 layers, ff 3840, chunk 8, left context 256; the projector 12800 -> 6400 ->
   4096) into --work (default /tmp/ellsa-speech-release), once: ellsa.json's "speech_encoder"
   section and speech_encoder.safetensors with tests/reference/make_speech_encoder.py's random
   weights (its `draw`, seed 20251202), the big 2-D weights BF16 as in the released checkpoint.
2. Each round: the authors' encoder (their Conv2dSubsampling, Zipformer2 and MultiKDModel from the
   SALMONN mirror, their encode_speech, via tests/reference/speech_encoder_reference.py) in PyTorch
   fp32 on the stored weights, on --seconds of fbank frames in one call, as their model encodes an
   utterance (torch.set_num_threads and OpenBLAS with --threads); then the engine
   (`ellsa-perf speech-cpu`: the same seconds streamed in 1-second pushes after a warm-up stream,
   fbank included), and with --before another build's Ellsa.Perf.dll the same way.
3. Prints each round and the medians; paste them into perf/RESULTS.md.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
sys.path.append(os.path.join(ROOT, "perf"))
import side_by_side_common as common  # noqa: E402

REEXEC = "ELLSA_SPEECH_SIDE_BY_SIDE_BLAS"
SEED = 20251202


def release_model(folder):
    """The authors' model in fp32 holding the release weights, which are written to `folder` the first time."""
    import torch
    import make_speech_encoder as mse
    import safetensors_io
    import speech_encoder_reference as ser
    path = os.path.join(folder, "speech_encoder.safetensors")
    model = ser.build(None).to(torch.float32)
    state = model.modules.state_dict()
    with torch.no_grad():
        if os.path.exists(path):
            seen = set()
            for name, array, _ in safetensors_io.iterate_file(path):
                state[name[len(ser.PREFIX):]].copy_(torch.from_numpy(np.array(array, dtype=np.float32)))
                seen.add(name[len(ser.PREFIX):])
            if seen != set(state):
                sys.exit(f"error: {path} does not hold the release encoder's tensors; delete {folder} to write it anew")
            return model
        os.makedirs(folder, exist_ok=True)
        dtypes = {}
        for name, array in mse.draw_each(model, SEED):
            dtypes[name] = mse.storage_of(name, array, "BF16")
            state[name[len(ser.PREFIX):]].copy_(torch.from_numpy(safetensors_io.round_to_dtype(array, dtypes[name])))
        # The model's own tensors hold exactly the stored values; they are written one at a time.
        tensors = {ser.PREFIX + k: v.numpy() for k, v in state.items()}
        meta = {"format": "pt", "generator": "perf/speech/side_by_side.py (make_speech_encoder.draw_each)",
                "seed": str(SEED), **model.authors.provenance()}
        safetensors_io.write_file(path + ".partial", tensors, dtypes, meta)
        with open(os.path.join(folder, "ellsa.json"), "w") as f:
            json.dump({"speech_encoder": ser.config_section()}, f, indent=2)
            f.write("\n")
        os.replace(path + ".partial", path)
    count = sum(v.numel() for v in state.values())
    print(f"wrote {folder}: {len(state)} tensors, {count / 1e6:.1f} M parameters, {os.path.getsize(path) / 1e9:.2f} GB", flush=True)
    return model


def run_engine(dll, folder, seconds, threads):
    return common.run_perf(dll, ["speech-cpu", "--model", folder, "--seconds", str(seconds), "--threads", str(threads)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20, help="audio per round (the engine streams it in 1-s pushes)")
    parser.add_argument("--work", default="/tmp/ellsa-speech-release")
    parser.add_argument("--before", default=None, help="another build's Ellsa.Perf.dll, timed in each round too")
    parser.add_argument("--mirror", default=None)
    args = parser.parse_args()
    common.with_openblas(args.threads, REEXEC)

    import torch
    import speech_encoder_reference as ser
    torch.set_num_threads(args.threads)
    ser.load_authors(args.mirror)
    model = release_model(args.work)
    frames = args.seconds * 100
    fbank = np.random.default_rng(1).normal(-8.0, 3.0, (frames, 128)).astype(np.float32)
    ser.encode(model, fbank[:300])  # warm-up
    print(f"PyTorch {torch.__version__}, BLAS {common.blas_in_use()}, {torch.get_num_threads()} threads; load: {os.getloadavg()}", flush=True)
    rows = []
    for r in range(args.rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        _, embeddings = ser.encode(model, fbank)
        torch_wall, torch_cpu = time.perf_counter() - wall, time.process_time() - cpu
        engine, out = run_engine(common.PERF_DLL, args.work, args.seconds, args.threads)
        before = run_engine(args.before, args.work, args.seconds, args.threads)[0] if args.before else {}
        row = (torch_wall / args.seconds, torch_cpu / args.seconds, engine["engine_s_per_audio_s"], engine["engine_cpu_s_per_audio_s"],
               before.get("engine_s_per_audio_s", float("nan")), before.get("engine_cpu_s_per_audio_s", float("nan")))
        rows.append(row)
        print(f"round {r + 1} (load {os.getloadavg()[0]:.2f}): PyTorch {row[0]:.3f} s/s ({row[1]:.3f} CPU-s/s, {embeddings.shape[0]} rows), "
              f"engine {row[2]:.3f} s/s ({row[3]:.3f} CPU-s/s)" + (f", engine before {row[4]:.3f} s/s ({row[5]:.3f} CPU-s/s)" if args.before else ""), flush=True)
    print(common.report_lines(out))
    med = np.median(np.array(rows), axis=0)
    print(f"median over {args.rounds} rounds, {args.seconds} s of audio, {args.threads} threads: PyTorch {med[0]:.3f} s per audio second "
          f"({med[1]:.3f} CPU-s), engine {med[2]:.3f} s ({med[3]:.3f} CPU-s); engine / PyTorch = {med[2] / med[0]:.2f}"
          + (f"; engine before {med[4]:.3f} s ({med[5]:.3f} CPU-s, {med[4] / med[0]:.2f} of PyTorch)" if args.before else ""))


if __name__ == "__main__":
    main()
