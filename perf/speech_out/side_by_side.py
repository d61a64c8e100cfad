#!/usr/bin/python3
"""The speech decoder at the released size, the engine beside the authors' PyTorch, in one run,
interleaved, on the same random weights and the same cores.

  /usr/bin/python3 perf/speech_out/side_by_side.py [--rounds 3] [--threads 2] [--seconds 10] [--step 50]
                                                   [--work DIR | --model DIR] [--no-reuse]

Needs Debian's python3-torch, python3-numpy, python3-omegaconf, libopenblas0-pthread (PyTorch's BLAS for
this run) and the mirrors of bytedance/SALMONN and huggingface/diffusers, as for the speech-output goldens.

1. Writes the release decoder (speech_decoder_reference.RELEASE: generator_proj 4096 -> 2048 -> 896, the
   Qwen2 0.5B speech-token LM (24 layers, d 896, 14/2 heads, ff 4864), the 112 M flow and the 21 M HiFT)
   into --work (default /tmp/ellsa-speech-out-release), once: ellsa.json's "speech_decoder" section,
   speech_decoder.safetensors with make_speech_decoder.py's random rules one tensor at a time (draw_each,
   seed 20251203; every matrix BF16, weight-norm g and 1-D tensors F32) and speech_prompt.safetensors
   shaped as the release's (84 tokens, 167 frames, 192-dim x-vector, 15000 noise frames as the authors'
   rand_noise). --model DIR runs an existing model directory instead (tests/goldens/speech_out/small
   checks the script in seconds).
2. Each round: the authors' modules (speech_decoder_reference: THEIR Qwen2LM with its re-prefilling
   driver cut from evaluate_speech.py, their CausalMaskedDiffWithXvec and HiFTGenerator through their
   CosyVoice2Model.tts_salmonn and windowed loop) in PyTorch fp32 (torch.set_num_threads and OpenBLAS with
   --threads): the LM on 8 random hidden rows per second of speech (segments of at most 12 calls, each
   driven to EOS, greedy), then their windowed token-to-wave loop over --seconds x 25 random tokens with
   --step (flow and HiFT timed apart); then the engine (`ellsa-perf speech-out-cpu`) on the same
   directory, seconds, step and threads.
3. Prints each round and the medians of CPU seconds per second of audio for the LM, the flow and HiFT,
   and the engine / PyTorch ratios; the lead pastes them into perf/RESULTS.md.
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

REEXEC = "ELLSA_SPEECH_OUT_SIDE_BY_SIDE_BLAS"
SEED = 20251203
TOKENS_PER_SECOND = 25
# The release's random draw: make_speech_decoder's rules with these settings (its CONFIGS' keys).
RELEASE = {
    "seed": SEED,
    "prompt": {"tokens": 84, "frames": 167, "noise_frames": 15000},
    "eos_bias": 3.5, "f0_bias": 60.0, "f0_spread": 60.0, "source_gain": 0.15,
    "dtypes": [(r".*original0$", "F32"), (r".*(weight|original1)$", "BF16")],
}
COMPONENTS = ("lm", "flow", "hift")


def release_model(a, folder):
    """The authors' model in fp32 holding the release weights, which are written to `folder` the first time."""
    import torch
    import make_speech_decoder as msd
    import safetensors_io
    import speech_decoder_reference as sr
    sd = sr.merged({})
    m = sr.build(a, sd, torch.float32)
    names = sr.checkpoint_names(m)
    states = {"cosy": m.cosy.state_dict(), "proj": m.proj.state_dict()}
    weights, prompt = os.path.join(folder, sd["weights"]), os.path.join(folder, sd["prompt"])
    with torch.no_grad():
        if os.path.exists(weights) and os.path.exists(prompt):
            seen = set()
            for name, array, _ in safetensors_io.iterate_file(weights):
                if name in names:
                    owner, key, shape = names[name]
                    states[owner][key].copy_(torch.from_numpy(np.asarray(array, dtype=np.float32)).reshape(shape))
                    seen.add(name)
            if seen != set(names):
                sys.exit(f"error: {weights} does not hold the release decoder's tensors; delete {folder} to write it anew")
        else:
            os.makedirs(folder, exist_ok=True)
            dtypes = {}
            for name, array in msd.draw_each(names, sd, RELEASE, np.random.default_rng(SEED)):
                owner, key, shape = names[name]
                dtypes[name] = msd.storage_dtype(name, shape, RELEASE["dtypes"])
                states[owner][key].copy_(torch.from_numpy(safetensors_io.round_to_dtype(array, dtypes[name])))
            # The model's own tensors hold exactly the stored values; they are written one at a time.
            tensors = {name: states[owner][key].numpy() for name, (owner, key, _) in names.items()}
            meta = dict(a.provenance, config="release", seed=str(SEED), generator="perf/speech_out/side_by_side.py (make_speech_decoder.draw_each)")
            safetensors_io.write_file(weights + ".partial", tensors, dtypes, metadata=meta)
            values = msd.make_prompt(sd, RELEASE, np.random.default_rng(SEED + 1000))
            safetensors_io.write_file(prompt + ".partial", values, {"prompt_token": "I32"}, metadata=meta)
            with open(os.path.join(folder, "ellsa.json"), "w") as f:
                json.dump({"speech_decoder": sd}, f, indent=2)
                f.write("\n")
            os.replace(prompt + ".partial", prompt)
            os.replace(weights + ".partial", weights)
            count = sum(int(np.prod(shape)) for _, _, shape in names.values())
            print(f"wrote {folder}: {len(names)} tensors, {count / 1e6:.1f} M parameters, {os.path.getsize(weights) / 1e9:.2f} GB", flush=True)
    values, _, _ = safetensors_io.read_file(prompt)
    sr.set_prompt(m, values)
    return m


def torch_lm(a, m, hidden_segments):
    """THEIR driver on each segment's generator_proj features; returns (wall s, CPU s, tokens)."""
    import torch
    import speech_decoder_reference as sr
    wall, cpu, tokens = time.perf_counter(), time.process_time(), 0
    for hidden in hidden_segments:
        feature = m.proj(torch.from_numpy(hidden)[None])
        tokens += len(sr.speech_lm(a, m, feature).tokens)
    return time.perf_counter() - wall, time.process_time() - cpu, tokens


def torch_synthesis(a, m, tokens, step):
    """THEIR windowed loop over the tokens, flow and HiFT timed apart; returns ({part: (wall, cpu)}, samples)."""
    import speech_decoder_reference as sr
    spent = {"flow": [0.0, 0.0], "hift": [0.0, 0.0]}

    def timed(part, fn):
        def call(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            out = fn(*args, **kwargs)
            spent[part][0] += time.perf_counter() - wall
            spent[part][1] += time.process_time() - cpu
            return out
        return call
    flow, hift = m.cosy.flow, m.cosy.hift
    with sr.patched(flow, "inference", timed("flow", flow.inference)), sr.patched(hift, "inference", timed("hift", hift.inference)):
        pieces = sr.synthesize(a, m, tokens, step)
    return spent, sum(int(np.size(p)) for p in pieces)


def run_engine(folder, seconds, step, threads, reuse):
    return common.run_perf(common.PERF_DLL, ["speech-out-cpu", "--model", folder, "--seconds", str(seconds), "--step", str(step),
                                             "--threads", str(threads)] + ([] if reuse else ["--no-reuse"]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10, help="seconds of speech per round (25 tokens each)")
    parser.add_argument("--step", type=int, default=50, help="the windowed loop's step in tokens (the evaluation's commented-out 50; 5000 = offline)")
    parser.add_argument("--work", default="/tmp/ellsa-speech-out-release")
    parser.add_argument("--model", default=None, help="an existing model directory instead of the release written to --work")
    parser.add_argument("--no-reuse", action="store_true", help="the engine recomputes the prompt's rows in every estimator pass")
    parser.add_argument("--mirror", default=None)
    parser.add_argument("--diffusers-mirror", default=None)
    args = parser.parse_args()
    common.with_openblas(args.threads, REEXEC)

    import torch
    import speech_decoder_reference as sr
    torch.set_num_threads(args.threads)
    a = sr.load_authors(args.mirror, args.diffusers_mirror)
    folder = args.model or args.work
    m = sr.load_model_dir(a, folder, torch.float32) if args.model else release_model(a, folder)
    sd = m.sd
    rng = np.random.default_rng(1)
    rows, per_segment = sd["llm"]["text_chunk"], 100 // sd["llm"]["text_chunk"]
    hidden = rng.uniform(-1, 1, (args.seconds * rows, sd["generator_proj"]["input_size"])).astype(np.float32)
    segments = [hidden[s * rows:(s + per_segment) * rows] for s in range(0, args.seconds, per_segment)]
    tokens = rng.integers(0, sd["flow"]["vocab_size"], args.seconds * TOKENS_PER_SECOND).tolist()
    rate = sd["hift"]["sampling_rate"]
    with sr.running(a, m):
        torch_lm(a, m, [hidden[:rows]])  # warm-up
        torch_synthesis(a, m, tokens[:min(len(tokens), args.step + 4)], args.step)
    print(f"PyTorch {torch.__version__}, BLAS {common.blas_in_use()}, {torch.get_num_threads()} threads; {folder}; load: {os.getloadavg()}", flush=True)
    rows_out = []
    for r in range(args.rounds):
        with sr.running(a, m):
            lm_wall, lm_cpu, lm_tokens = torch_lm(a, m, segments)
            spent, samples = torch_synthesis(a, m, tokens, args.step)
        lm_audio, audio = lm_tokens / TOKENS_PER_SECOND, samples / rate
        torch_cpu = {"lm": lm_cpu / lm_audio, "flow": spent["flow"][1] / audio, "hift": spent["hift"][1] / audio}
        torch_wall = {"lm": lm_wall / lm_audio, "flow": spent["flow"][0] / audio, "hift": spent["hift"][0] / audio}
        engine, out = run_engine(folder, args.seconds, args.step, args.threads, not args.no_reuse)
        row = [torch_cpu[c] for c in COMPONENTS] + [engine[f"{c}_cpu_s_per_audio_s"] for c in COMPONENTS] + \
              [torch_wall[c] for c in COMPONENTS] + [engine[f"{c}_s_per_audio_s"] for c in COMPONENTS]
        rows_out.append(row)
        print(f"round {r + 1} (load {os.getloadavg()[0]:.2f}; PyTorch {lm_tokens} LM tokens, {audio:.2f} s of audio), CPU s per audio second: " +
              ", ".join(f"{c} PyTorch {row[i]:.3f} engine {row[3 + i]:.3f}" for i, c in enumerate(COMPONENTS)), flush=True)
    print(common.report_lines(out))
    med = np.median(np.array(rows_out), axis=0)
    total_torch, total_engine = med[0:3].sum(), med[3:6].sum()
    print(f"median over {args.rounds} rounds, {args.seconds} s of speech, step {args.step}, {args.threads} threads, "
          f"CPU seconds per audio second (wall in brackets):")
    for i, c in enumerate(COMPONENTS):
        print(f"  {c:5} PyTorch {med[i]:.3f} ({med[6 + i]:.3f})  engine {med[3 + i]:.3f} ({med[9 + i]:.3f})  engine / PyTorch = {med[3 + i] / med[i]:.2f}")
    print(f"  total PyTorch {total_torch:.3f}  engine {total_engine:.3f}  engine / PyTorch = {total_engine / total_torch:.2f}")


if __name__ == "__main__":
    main()
