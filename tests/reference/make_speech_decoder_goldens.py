#!/usr/bin/python3
"""Speech-output goldens from the authors' own modules in float64 (speech_decoder_reference.py), for the
model directories written by make_speech_decoder.py (tests/goldens/speech_out/{small,wide}).

  /usr/bin/python3 tests/reference/make_speech_decoder_goldens.py            # small and wide
  /usr/bin/python3 tests/reference/make_speech_decoder_goldens.py small      # one config
  options: --mirror DIR, --diffusers-mirror DIR, --no-fp32 (skip the float32 comparison)

All randomness is frozen: the CFM start noise is the prompt file's `cfm_noise`, SineGen's phases and
noise are zero, the LM decodes greedily (GreedySampler), and every run checks that torch's RNG was not
touched. Inputs (tokens, hidden rows) are drawn with numpy from fixed seeds and stored as the files
hold them (the reference uses exactly the stored F32 values). Outputs are stored F32 (from float64).

Per config folder:
  offline.safetensors  n{N}.tokens, n{N}.mel [1, 80, M], n{N}.wave [1, S]: one tts_salmonn(finalize=True)
  stream.safetensors   n{N}_step{K}.tokens, .wave (every emitted piece, concatenated), .pieces (samples per
                       piece), .windows [W, 3] (first token, end token, finalize), .mels (the mel each call
                       fed HiFT, hift-cache frames included, concatenated along time) and .mel_frames [W]:
                       THEIR windowed loop from evaluate_speech.py with step K
  lm.safetensors       n{N}.hidden [1, N, d_in] (speech-expert rows), .features (generator_proj output),
                       .tokens, .first_logits [V + 3] (raw llm_decoder output at the first decode step),
                       .call_tokens / .call_final (per inference_salmonn_stream call), .gaps (greedy margin
                       per step: best minus runner-up among the ids the step may choose); e{N}.* the same
                       segment synthesised by THEIR loop as released (step 5000: one offline call);
                       ras.* the nucleus sets of ras_sampling for three score rows
  debug.safetensors    intermediate tensors of one offline case and the HiFT cache after one window
  summary.json         cases, float32-vs-float64 relative L2 of the authors' model, margins, provenance
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qwen2_shim  # noqa: E402
import safetensors_io  # noqa: E402
import speech_decoder_reference as sr  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "goldens", "speech_out")

CASES = {
    "small": {"seed": 31, "offline": [3, 16, 53, 151], "stream": [(16, 10), (53, 10), (103, 50)],
              "lm": [1, 3, 13, 24, 37, 93], "e2e": [3], "debug": 6, "debug_stream": (16, 10)},
    "wide": {"seed": 32, "offline": [3, 17, 60, 151], "stream": [(23, 6), (60, 15), (121, 40)],
             "lm": [1, 4, 13, 30, 95], "e2e": [4], "debug": 7, "debug_stream": (23, 6)},
}
RAS_SCALES = [1.0, 1.5, 2.5]  # small: 25 (top-k bound), 5, 1 kept; wide: 25, 25, 3


def f32(x):
    return np.asarray(x.detach().double().numpy() if hasattr(x, "detach") else x, dtype=np.float64)


class Golden:
    """Tensors of one golden file, written F32 (floats) / I32 (ints)."""

    def __init__(self):
        self.tensors, self.dtypes = {}, {}

    def put(self, name, value, dtype="F32"):
        self.tensors[name] = np.asarray(value) if dtype == "I32" else f32(value)
        self.dtypes[name] = dtype

    def write(self, path, meta):
        safetensors_io.write_file(path, self.tensors, self.dtypes, metadata=meta)


def traced_tts(m, calls):
    """tts_salmonn recording every call the loops make (tokens, finalize, emitted samples, mel, cache)."""
    original = m.cosy.tts_salmonn

    def tts(text, *args, **kw):
        out = original(text, *args, **kw)
        calls.append({"n": len(text), "finalize": bool(kw["finalize"]), "samples": int(out[0].shape[1]),
                      "mel": out[2].detach().clone(), "cache": out[1]})
        return out
    return sr.patched(m.cosy, "tts_salmonn", tts)


def windows_of(calls, step):
    """First/end token of each call, from THEIR loop's arithmetic as observed (0..step, then +step-3, +step)."""
    out, num = [], 0
    for i, c in enumerate(calls):
        out.append([num, num + c["n"], int(c["finalize"])])
        num += (step - 3) if i == 0 else step
    return out


def offline(a, m, tokens):
    with sr.running(a, m):
        wave, _, mel = sr.tts(a, m, tokens)
    return f32(mel), f32(wave)


def stream(a, m, tokens, step):
    calls = []
    with traced_tts(m, calls), sr.running(a, m):
        pieces = sr.synthesize(a, m, tokens, step)
    return pieces, calls


def lm_case(a, m, hidden):
    import torch
    with sr.running(a, m):
        features = m.proj(torch.from_numpy(hidden).to(m.dtype))
        result = sr.speech_lm(a, m, features)
    result.features = features
    return result


def nucleus_sets(a, m, logits):
    """ras_sampling's nucleus (top-p 0.8 / top-k 25, stable descending order) for score rows derived from
    `logits`: log_softmax(scale * logits)[:V] as the interleaved phase hands it over. THEIR nucleus_sampling
    runs; its multinomial draw is intercepted to read the kept probabilities."""
    import torch
    s = m.sd["llm"]["sampling"]
    V = m.sd["llm"]["speech_token_size"]
    rows, ids, probs = [], [], []
    for scale in RAS_SCALES:
        row = torch.log_softmax(logits.double() * scale, dim=-1)[:V]
        seen = []
        original = torch.Tensor.multinomial

        def record(self, *args, **kw):
            seen.append(self.detach().clone())
            return torch.zeros(1, dtype=torch.long)
        torch.Tensor.multinomial = record
        try:
            a.common.nucleus_sampling(row, top_p=s["top_p"], top_k=s["top_k"])
        finally:
            torch.Tensor.multinomial = original
        kept = seen[0]
        order = torch.sort(row.softmax(dim=0), descending=True, stable=True)[1][:len(kept)]
        rows.append(f32(row))
        ids.append([int(i) for i in order])
        probs.append(f32(kept))
    k = max(len(i) for i in ids)
    return (np.stack(rows), np.array([i + [-1] * (k - len(i)) for i in ids], dtype=np.int32),
            np.stack([np.concatenate([p, np.zeros(k - len(p))]) for p in probs]))


def shim_crosscheck(m, sequence):
    """qwen2_shim against its independent numpy formulation, and its KV-cached path against a prefill."""
    import torch
    model = m.cosy.llm.llm.model
    c = model.config
    params = {k: v.detach().double().numpy() for k, v in model.state_dict().items()}
    with torch.inference_mode():
        full = model(inputs_embeds=sequence, output_hidden_states=True).hidden_states[-1][0].double().numpy()
        k = sequence.shape[1] - 3
        first = model(inputs_embeds=sequence[:, :k], output_hidden_states=True, use_cache=True)
        step = model(inputs_embeds=sequence[:, k:], past_key_values=first.past_key_values,
                     output_hidden_states=True).hidden_states[-1][0].double().numpy()
    ref = qwen2_shim.reference_forward(params, c, sequence[0].double().numpy())
    return float(np.abs(full - ref).max()), float(np.abs(step - full[k:]).max())


PARTS = ("offline", "stream", "lm", "debug")


def run_config(a, name, fp32, parts=PARTS):
    import torch
    cases = CASES[name]
    folder = os.path.join(OUT, name)
    m = sr.load_model_dir(a, folder, torch.float64)
    m32 = sr.load_model_dir(a, folder, torch.float32) if fp32 else None
    meta = dict(a.provenance, config=name, generator="tests/reference/make_speech_decoder_goldens.py",
                frozen="cfm_noise from the prompt file; SineGen phases and noise zero; greedy LM")
    summary_path = os.path.join(folder, "summary.json")
    summary = {"offline": {}, "stream": {}, "lm": {}, "e2e": {}, "checks": {}, "seconds": {}}
    if set(parts) != set(PARTS) and os.path.exists(summary_path):
        with open(summary_path) as fh:
            summary.update(json.load(fh))
    summary.update(config=name, provenance=a.provenance)
    runs = {"offline": run_offline, "stream": run_stream, "lm": run_lm, "debug": debug}
    seconds = summary.setdefault("seconds", {})
    for part in PARTS:
        if part in parts:
            t0 = time.time()
            runs[part](a, m, m32, name, folder, meta, cases, rng_for(cases, part), summary)
            seconds[part] = round(time.time() - t0, 1)
    with open(summary_path, "w") as fh:
        json.dump(summary, fh, indent=1)
        fh.write("\n")
    print(f"{name}: {seconds} s", flush=True)


def rng_for(cases, part):
    """One generator per part, so regenerating one part leaves the others' inputs unchanged."""
    return np.random.default_rng([cases["seed"], PARTS.index(part)])


def run_offline(a, m, m32, name, folder, meta, cases, rng, summary):
    sd, V = m.sd, m.sd["flow"]["vocab_size"]
    g = Golden()
    for n in cases["offline"]:
        tokens = rng.integers(0, V, n)
        mel, wave = offline(a, m, tokens.tolist())
        g.put(f"n{n}.tokens", tokens.astype(np.int32), "I32")
        g.put(f"n{n}.mel", mel)
        g.put(f"n{n}.wave", wave)
        entry = {"tokens": n, "mel": list(mel.shape), "wave": list(wave.shape),
                 "clipped": float(np.mean(np.abs(wave) >= sd["hift"]["audio_limit"] - 1e-9))}
        if m32:
            mel32, wave32 = offline(a, m32, tokens.tolist())
            entry.update(fp32_mel=sr.rel_l2(mel32, mel), fp32_wave=sr.rel_l2(wave32, wave))
        summary["offline"][f"n{n}"] = entry
        print(f"  {name} offline n{n}: {entry}", flush=True)
    g.write(os.path.join(folder, "offline.safetensors"), meta)


def run_stream(a, m, m32, name, folder, meta, cases, rng, summary):
    V = m.sd["flow"]["vocab_size"]
    g = Golden()
    for n, step in cases["stream"]:
        tokens = rng.integers(0, V, n)
        pieces, calls = stream(a, m, tokens.tolist(), step)
        key = f"n{n}_step{step}"
        wave = np.concatenate(pieces)
        g.put(f"{key}.tokens", tokens.astype(np.int32), "I32")
        g.put(f"{key}.wave", wave[None, :])
        g.put(f"{key}.pieces", np.array([len(p) for p in pieces], dtype=np.int32), "I32")
        g.put(f"{key}.windows", np.array(windows_of(calls, step), dtype=np.int32), "I32")
        g.put(f"{key}.mels", np.concatenate([f32(c["mel"]) for c in calls], axis=2))
        g.put(f"{key}.mel_frames", np.array([c["mel"].shape[2] for c in calls], dtype=np.int32), "I32")
        entry = {"tokens": n, "step": step, "windows": windows_of(calls, step), "pieces": [len(p) for p in pieces]}
        if m32:
            pieces32, _ = stream(a, m32, tokens.tolist(), step)
            entry["fp32_wave"] = sr.rel_l2(np.concatenate(pieces32), wave)
        summary["stream"][key] = entry
        print(f"  {name} stream {key}: {entry}", flush=True)
    g.write(os.path.join(folder, "stream.safetensors"), meta)


def run_lm(a, m, m32, name, folder, meta, cases, rng, summary):
    import torch
    d_in = m.sd["generator_proj"]["input_size"]
    g = Golden()
    longest = None
    for n in cases["lm"]:
        hidden = rng.standard_normal((1, n, d_in)).astype(np.float32)
        r = lm_case(a, m, hidden)
        g.put(f"n{n}.hidden", hidden)
        g.put(f"n{n}.features", r.features)
        g.put(f"n{n}.tokens", np.array(r.tokens, dtype=np.int32), "I32")
        g.put(f"n{n}.first_logits", r.logits[0][0])
        g.put(f"n{n}.call_tokens", np.array([c["new_tokens"] for c in r.calls], dtype=np.int32), "I32")
        g.put(f"n{n}.call_final", np.array([int(c["final"]) for c in r.calls], dtype=np.int32), "I32")
        g.put(f"n{n}.gaps", np.array([s["gap"] for s in r.steps]))
        entry = {"hidden_rows": n, "tokens": len(r.tokens), "finished": r.final, "calls": r.calls,
                 "final_phase_steps": sum(s["phase"] == "final" for s in r.steps),
                 "eos_rejections": sum(s["eos_rejected"] for s in r.steps),
                 "min_gap": min(s["gap"] for s in r.steps)}
        if m32:
            r32 = lm_case(a, m32, hidden)
            entry.update(fp32_same_tokens=r32.tokens == r.tokens,
                         fp32_first_logits=sr.rel_l2(r32.logits[0][0], r.logits[0][0]),
                         fp32_features=sr.rel_l2(r32.features, r.features))
        summary["lm"][f"n{n}"] = entry
        print(f"  {name} lm n{n}: tokens {len(r.tokens)}, min gap {entry['min_gap']:.2e}, "
              f"fp32 {entry.get('fp32_same_tokens')}", flush=True)
        if n in cases["e2e"]:
            pieces, calls = stream(a, m, r.tokens, 5000)
            g.put(f"e{n}.mel", f32(calls[-1]["mel"]))
            g.put(f"e{n}.wave", pieces[-1][None, :])
            e = {"hidden_rows": n, "tokens": len(r.tokens), "calls": len(calls), "wave": len(pieces[-1])}
            if m32:
                p32, _ = stream(a, m32, r32.tokens, 5000)
                e["fp32_wave"] = sr.rel_l2(p32[-1], pieces[-1])
            summary["e2e"][f"e{n}"] = e
        if r.calls and (longest is None or r.calls[-1]["lm_input_len"] > longest[0]):
            longest = (n, r)
        if n == cases["lm"][1]:
            with sr.default_dtype(torch.float64):
                rows, ids, probs = nucleus_sets(a, m, r.logits[0][0])
            g.put("ras.rows", rows)
            g.put("ras.kept_ids", ids, "I32")
            g.put("ras.kept_probs", probs)
            summary["lm"]["ras"] = {"from": f"n{n}.first_logits", "scales": RAS_SCALES,
                                    "kept": [int((i >= 0).sum()) for i in ids]}
    g.write(os.path.join(folder, "lm.safetensors"), meta)

    # The Qwen2 shim (not the authors' code) against an independent formulation, on the longest LM input.
    seq = longest_sequence(a, m, longest)
    diff_ref, diff_cache = shim_crosscheck(m, seq)
    summary["checks"]["qwen2_shim_vs_numpy"] = diff_ref
    summary["checks"]["qwen2_shim_cache_vs_prefill"] = diff_cache
    summary["checks"]["qwen2_sequence_length"] = int(seq.shape[1])
    if diff_ref > 1e-9 or diff_cache > 1e-9:
        sys.exit(f"error: qwen2 shim cross-check failed: {diff_ref:.3e} / {diff_cache:.3e}")


def longest_sequence(a, m, longest):
    """The whole LM input (sos, features and speech-token embeddings) of the longest interleaved segment,
    rebuilt by rerunning the driver and reading the lm_input THEIR last interleaved call returned."""
    n, r = longest
    import torch
    seqs, original = [], m.cosy.llm.inference_salmonn_stream

    def keep(*args, **kw):
        out = original(*args, **kw)
        if not out[3] or out[0].shape[1] > 1:
            seqs.append(out[0])
        return out
    with sr.patched(m.cosy.llm, "inference_salmonn_stream", keep), sr.running(a, m):
        sr.speech_lm(a, m, r.features)
    return max(seqs, key=lambda s: s.shape[1]).detach().to(torch.float64)


def debug(a, m, m32, name, folder, meta, cases, rng, summary):
    """Intermediate tensors of one offline case (tokens drawn fresh) and the HiFT cache after a window."""
    flow, hift, enc = m.cosy.flow, m.cosy.hift, m.cosy.flow.encoder
    n = cases["debug"]
    tokens = rng.integers(0, m.sd["flow"]["vocab_size"], n)
    cap = sr.Capture({"embedding": flow.input_embedding, "spks": flow.spk_embed_affine_layer, "embed": enc.embed,
                      "pre_lookahead": enc.pre_lookahead_layer, "encoders": enc.encoders[-1],
                      "up_layer": enc.up_layer, "up_embed": enc.up_embed, "encoder": enc,
                      "mu": flow.encoder_proj,
                      "f0": hift.f0_predictor, "source": hift.m_source, "conv_post": hift.conv_post})
    est, estimator = [], flow.decoder.estimator
    forward = estimator.forward

    def estimator_call(*args):  # solve_euler calls estimator.forward directly, past any hook
        out = forward(*args)
        est.append({"in": [x.detach().clone() for x in args], "out": out.detach().clone()})
        return out
    try:
        with sr.patched(estimator, "forward", estimator_call):
            mel, wave = offline(a, m, tokens.tolist())
    finally:
        cap.close()
    c = cap.calls
    g = Golden()
    g.put("tokens", tokens.astype(np.int32), "I32")
    g.put("flow.token_embedding", c["embedding"][0]["out"])
    g.put("flow.spks", c["spks"][0]["out"])
    g.put("encoder.embed", c["embed"][0]["out"][0])
    g.put("encoder.pos_emb", c["embed"][0]["out"][1])
    g.put("encoder.pre_lookahead", c["pre_lookahead"][0]["out"])
    g.put("encoder.encoders", c["encoders"][0]["out"][0])
    g.put("encoder.up_layer", c["up_layer"][0]["out"][0])
    g.put("encoder.up_embed", c["up_embed"][0]["out"][0])
    g.put("encoder.up_pos_emb", c["up_embed"][0]["out"][1])
    g.put("encoder.out", c["encoder"][0]["out"][0])
    g.put("flow.mu", c["mu"][0]["out"])
    g.put("estimator.t", est[0]["in"][3])
    g.put("estimator.out", est[0]["out"])
    g.put("estimator.t_all", np.stack([f32(e["in"][3][0]) for e in est]))
    g.put("mel", mel)
    g.put("hift.f0", c["f0"][0]["out"])
    g.put("hift.source", c["source"][0]["out"][0])
    g.put("hift.conv_post", c["conv_post"][0]["out"])
    g.put("wave", wave)
    f0 = f32(c["f0"][0]["out"])
    summary["checks"]["debug"] = {"tokens": n, "estimator_calls": len(est), "f0_min": float(f0.min()),
                                  "f0_median": float(np.median(f0)), "unvoiced_frames": int((f0 <= 10).sum()),
                                  "f0_threshold_margin": float(np.abs(f0 - m.sd["hift"]["nsf_voiced_threshold"]).min())}
    n, step = cases["debug_stream"]
    tokens = rng.integers(0, m.sd["flow"]["vocab_size"], n)
    _, calls = stream(a, m, tokens.tolist(), step)
    cache = calls[0]["cache"]
    g.put("stream.tokens", tokens.astype(np.int32), "I32")
    g.put("stream.step", np.array([step], dtype=np.int32), "I32")
    g.put("stream.cache_mel", cache["mel"])
    g.put("stream.cache_source", cache["source"])
    g.put("stream.cache_speech", cache["speech"])
    g.write(os.path.join(folder, "debug.safetensors"), meta)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("configs", nargs="*", metavar="CONFIG", help=f"any of {list(CASES)} (default: all)")
    ap.add_argument("--mirror")
    ap.add_argument("--diffusers-mirror")
    ap.add_argument("--no-fp32", action="store_true", help="skip the float32 comparison")
    ap.add_argument("--only", action="append", choices=PARTS, help="regenerate only these files (repeatable)")
    args = ap.parse_args()
    names = args.configs or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        sys.exit(f"error: unknown config {unknown[0]!r} (known: {', '.join(CASES)})")
    for n in names:
        if not os.path.exists(os.path.join(OUT, n, "ellsa.json")):
            sys.exit(f"error: {os.path.join(OUT, n)} has no model: run make_speech_decoder.py {n} first")
    a = sr.load_authors(args.mirror, args.diffusers_mirror)
    for n in names:
        run_config(a, n, not args.no_fp32, tuple(args.only or PARTS))


if __name__ == "__main__":
    main()
