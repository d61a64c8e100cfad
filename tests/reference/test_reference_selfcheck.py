#!/usr/bin/python3
"""Self-checks of the float64 reference (run by hand, not by CI):

    /usr/bin/python3 tests/reference/test_reference_selfcheck.py

The reference is the oracle for the engine's goldens, so it is checked against itself in ways
that do not share the code path under test:
  * prefill followed by single-token decode steps == one long prefill (KV cache, positions);
  * a second, cache-free implementation in the authors' style (both experts run on every token,
    results selected by routing mask, full causal mask, KV heads expanded) == the reference;
  * merged vs unmerged LoRA checkpoints of the same weights (also exercises every alias spelling);
  * sharded vs single-file, and mixed storage dtypes vs the same values read back;
  * GQA with group size 4 == the same model with K/V heads duplicated into plain multi-head;
  * llama3 RoPE frequencies == a direct transcription of HF's _compute_llama3_parameters;
  * bf16 rounding == torch's float32 -> bfloat16 cast; routing rule corner cases;
  * the committed tiny model's layout and the committed goldens regenerate identically.
"""

import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import ellsa_ref as R  # noqa: E402
import make_checkpoint  # noqa: E402
import make_goldens  # noqa: E402
import safetensors_io as io  # noqa: E402

TINY = os.path.join(ROOT, "weights", "tiny")
GOLDENS = os.path.join(ROOT, "tests", "goldens", "tiny")

TINY_TOKENS = {"bos": 300, "speech_eos": 301, "bot": 305, "eot": 306, "silence": 307, "bop": 308, "eop": 309,
               "boa": 700, "eoa": 701, "eof": 703, "img": 707, "boi": 708, "eoi": 709, "visual_base": 736,
               "visual_count": 64, "action_first": 370, "action_last": 690, "fast_base": 690}

_tmp = tempfile.TemporaryDirectory(prefix="ellsa_selfcheck_")


def make_ckpt(name, *extra):
    """A small random checkpoint (tiny-like ids) under a temporary directory."""
    out = os.path.join(_tmp.name, name)
    make_checkpoint.main(["--out", out, "--tokens", json.dumps(TINY_TOKENS), *extra])
    return out


def rel_err(a, b):
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    return float((a - b).norm() / max(float(b.norm()), 1e-300))


def mixed_items(model, seed=0, n_blocks=3):
    """A sequence with every routing case: leading embeddings, both experts, spliced rows after boi."""
    b = make_goldens.SeqBuilder(model.tokens, np.random.default_rng(seed), model.hidden)
    b.audio(2).prompt(3)
    for _ in range(n_blocks):
        b.listen().frame(5)
        b.ids(b.t["boi"]).audio(2).ids(b.t["eoi"])
        b.ids(b.t["bot"], b.text_ids(2), b.t["eot"]).actions(3)
    b.listen().frame(4).ids(b.t["bot"])
    return R.parse_segments({"segments": b.segments}, model.hidden)


def all_logits(model, items):
    experts, rows = R.forward(model, items)
    return experts, rows


# ------------------------------------------------------------------------------------------

def test_bf16_rounding_matches_torch():
    x = np.random.default_rng(0).standard_normal(100000).astype(np.float32) * 10.0 ** np.random.default_rng(1).integers(-5, 5, 100000)
    # Include exact half-way cases, which is where round-to-nearest-even matters.
    halves = (np.arange(1000, dtype=np.uint32) << 16 | 0x8000).view(np.float32)
    x = np.concatenate([x, halves, -halves]).astype(np.float32)
    ours = io.bf16_bits_to_f32(io.f32_to_bf16_bits(x))
    theirs = torch.from_numpy(x).to(torch.bfloat16).to(torch.float32).numpy()
    assert np.array_equal(ours.view(np.uint32), theirs.view(np.uint32))


def test_safetensors_roundtrip_and_alignment():
    rng = np.random.default_rng(3)
    t = {"a": rng.standard_normal((3, 5)), "b": rng.standard_normal(7), "c": np.arange(6, dtype=np.int32).reshape(2, 3),
         "d": rng.standard_normal((2, 2))}
    dt = {"a": "BF16", "b": "F16", "c": "I32", "d": "F32"}
    p = os.path.join(_tmp.name, "rt.safetensors")
    io.write_file(p, t, dt, {"k": "v"})
    with open(p, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
    assert n % 8 == 0
    back, dtypes, meta = io.read_file(p)
    assert meta == {"k": "v"} and dtypes == dt
    for k in t:
        expect = t[k] if k == "c" else io.round_to_dtype(t[k], dt[k])
        assert np.array_equal(np.asarray(back[k], dtype=np.float64), np.asarray(expect, dtype=np.float64)), k


def test_llama3_frequencies_match_hf_transcription():
    """Direct transcription (torch, like HF) of transformers' _compute_llama3_parameters, which
    modeling_llama_new2.py reaches through ROPE_INIT_FUNCTIONS["llama3"]."""

    def hf_llama3(base, dim, factor, low_freq_factor, high_freq_factor, old_context_len, dtype):
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).to(dtype) / dim))
        low_freq_wavelen = old_context_len / low_freq_factor
        high_freq_wavelen = old_context_len / high_freq_factor
        wavelen = 2 * math.pi / inv_freq
        inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
        smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
        is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
        return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)

    cases = [(500000.0, 128, 8.0, 1.0, 4.0, 8192),   # Llama-3.1-8B
             (500000.0, 16, 8.0, 1.0, 4.0, 64),      # weights/tiny
             (500000.0, 64, 32.0, 1.0, 4.0, 8192)]
    for base, dim, f, lo, hi, ctx in cases:
        scaling = {"rope_type": "llama3", "factor": f, "low_freq_factor": lo, "high_freq_factor": hi,
                   "original_max_position_embeddings": ctx}
        ours = torch.from_numpy(R.rope_inverse_frequencies(dim, base, scaling))
        ref64 = hf_llama3(base, dim, f, lo, hi, ctx, torch.float64)
        ref32 = hf_llama3(base, dim, f, lo, hi, ctx, torch.float32)
        assert rel_err(ours, ref64) < 1e-14, (dim, rel_err(ours, ref64))
        assert float(((ours - ref32.double()) / ours).abs().max()) < 1e-6
    # The 8B numbers quoted in 01-model.md §1.4: pairs 0..28 unchanged, 29..34 smoothed, 35..63 / 8.
    inv = 1.0 / (500000.0 ** (np.arange(0, 128, 2) / 128))
    ours = R.rope_inverse_frequencies(128, 500000.0, {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                      "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})
    assert np.array_equal(ours[:29], inv[:29]) and np.allclose(ours[35:], inv[35:] / 8, rtol=1e-15)
    assert all(inv[i] / 8 < ours[i] < inv[i] for i in range(29, 35))
    # Plain RoPE for null scaling.
    assert np.array_equal(R.rope_inverse_frequencies(16, 1e6, None), 1.0 / (1e6 ** (np.arange(0, 16, 2) / 16)))


def test_routing_rule():
    m = R.Model(TINY)
    t = m.tokens
    e = ("emb", None)
    items = [e, ("id", 5), ("id", t["bos"]), e, ("id", t["boi"]), e, e, ("id", t["eoi"]), ("id", t["bot"]),
             ("id", t["eot"]), ("id", t["boa"]), ("id", 400), ("id", t["eoa"]), ("id", t["bop"]), ("id", t["img"])]
    assert "".join(m.route(items)) == "SSSSVVVVSSVVVVV"


def test_prefill_then_decode_equals_prefill():
    m = R.Model(TINY)
    items = mixed_items(m, seed=11)
    experts = m.route(items)
    _, full = R.forward(m, items)
    for split in (1, 7, len(items) // 2, len(items) - 1):
        dec = R.Decoder(m)
        y = dec.step(m.embed(items[:split], experts[:split]), experts[:split])
        rows = [m.logits(experts[i], y[i:i + 1])[0] for i in range(split)]
        for i in range(split, len(items)):
            y = dec.step(m.embed(items[i:i + 1], experts[i:i + 1], i), experts[i:i + 1])
            rows.append(m.logits(experts[i], y)[0])
        for i, (a, b) in enumerate(zip(rows, full)):
            assert rel_err(a, b) < 1e-12, (split, i, rel_err(a, b))


def naive_forward(m, items):
    """Cache-free forward in the authors' style: every layer runs BOTH experts on ALL tokens and
    keeps the routed result; K/V heads are expanded with repeat_interleave; one causal mask."""
    experts = m.route(items)
    Ls = len(items)
    is_v = torch.tensor([e == "V" for e in experts])[:, None]
    # Embedding: look up in both tables where the id is in range, keep the routed one.
    x = torch.zeros(Ls, m.hidden)
    for i, (kind, val) in enumerate(items):
        if kind == "emb":
            x[i] = val
        else:
            x[i] = (m.vision if experts[i] == "V" else m.speech).embed[val]
    H, KV, hd = m.heads, m.kv_heads, m.head_dim
    pos = torch.arange(Ls, dtype=torch.float64)
    causal = torch.tril(torch.ones(Ls, Ls, dtype=torch.bool))

    def rope(z, inv):
        f = torch.outer(pos, inv)
        emb = torch.cat([f, f], -1)[:, None, :]
        z1, z2 = z[..., :hd // 2], z[..., hd // 2:]
        return z * emb.cos() + torch.cat([-z2, z1], -1) * emb.sin()

    def norm(z, w, eps):
        return z / torch.sqrt(z.pow(2).mean(-1, keepdim=True) + eps) * w

    def both(fn):
        return torch.where(is_v, fn(m.vision), fn(m.speech))

    for li in range(m.layers):
        def qkv(ex):
            L = ex.layers[li]
            h = norm(x, L["in_norm"], ex.cfg.eps)
            out = [h @ L[w].T + (L["b" + w[1]] if L["b" + w[1]] is not None else 0) for w in ("wq", "wk", "wv")]
            q = rope(out[0].view(Ls, H, hd), ex.inv_freq).reshape(Ls, -1)
            k = rope(out[1].view(Ls, KV, hd), ex.inv_freq).reshape(Ls, -1)
            return torch.cat([q, k, out[2]], -1)
        z = both(qkv)
        q = z[:, :H * hd].view(Ls, H, hd).transpose(0, 1)
        k = z[:, H * hd:(H + KV) * hd].view(Ls, KV, hd).transpose(0, 1).repeat_interleave(H // KV, 0)
        v = z[:, (H + KV) * hd:].view(Ls, KV, hd).transpose(0, 1).repeat_interleave(H // KV, 0)
        s = q @ k.transpose(1, 2) / math.sqrt(hd)
        s = s.masked_fill(~causal, -math.inf)
        a = (torch.softmax(s, -1) @ v).transpose(0, 1).reshape(Ls, H * hd)
        x = x + both(lambda ex: a @ ex.layers[li]["wo"].T)
        x = x + both(lambda ex: (lambda h: (torch.nn.functional.silu(h @ ex.layers[li]["wg"].T) *
                                            (h @ ex.layers[li]["wu"].T)) @ ex.layers[li]["wd"].T)(
            norm(x, ex.layers[li]["post_norm"], ex.cfg.eps)))
    y = both(lambda ex: norm(x, ex.norm, ex.cfg.eps))
    return "".join(experts), [(m.vision if e == "V" else m.speech).head @ y[i] for i, e in enumerate(experts)]


def test_independent_naive_forward():
    for path in (TINY, make_ckpt("gqa4", "--heads", "8", "--kv-heads", "2", "--hidden", "48", "--head-dim", "8",
                                 "--seed", "5", "--dtype", "mixed", "--speech-qkv-bias")):
        m = R.Model(path)
        items = mixed_items(m, seed=12)
        e1, r1 = R.forward(m, items)
        e2, r2 = naive_forward(m, items)
        assert e1 == e2
        worst = max(rel_err(a, b) for a, b in zip(r1, r2))
        assert worst < 1e-12, worst


def test_merged_equals_unmerged():
    # f64 storage keeps W + (alpha/r)BA exact, so any difference is a loader/alias bug.
    common = ["--seed", "9", "--dtype", "f64", "--lora-r", "4", "--lora-alpha", "12", "--speech-qkv-bias"]
    un = R.Model(make_ckpt("unmerged", "--lora", "unmerged", *common))
    mg = R.Model(make_ckpt("merged", "--lora", "merged", *common))
    assert not un.aliases and mg.aliases and not un.unused and not mg.unused
    items = mixed_items(un, seed=13)
    e1, r1 = R.forward(un, items)
    e2, r2 = R.forward(mg, items)
    assert e1 == e2
    worst = max(rel_err(a, b) for a, b in zip(r1, r2))
    assert worst < 1e-10, worst
    # And LoRA matters: dropping the adapters changes the logits a lot.
    none = R.Model(make_ckpt("nolora", "--lora", "none", *common))
    assert min(rel_err(a, b) for a, b in zip(R.forward(none, items)[1], r1)) > 1e-3


def test_sharded_equals_single_and_mixed_dtypes():
    common = ["--seed", "21", "--dtype", "mixed"]
    one = R.Model(make_ckpt("single", "--shards", "1", *common))
    three = R.Model(make_ckpt("three", "--shards", "3", *common))
    assert os.path.exists(os.path.join(three.dir, "model-00003-of-00003.safetensors"))
    assert set(one.dtypes.values()) == {"BF16", "F16", "F32"} and one.dtypes == three.dtypes
    items = mixed_items(one, seed=14)
    r1, r3 = R.forward(one, items)[1], R.forward(three, items)[1]
    assert all(torch.equal(a, b) for a, b in zip(r1, r3))


def test_gqa_group4_equals_expanded_mha():
    path = make_ckpt("gqa_exp", "--heads", "8", "--kv-heads", "2", "--seed", "31", "--dtype", "f32")
    g = R.Model(path)
    mha = R.Model(path)
    group = mha.heads // mha.kv_heads
    hd = mha.head_dim
    # Duplicate every K/V head `group` times in the (merged) weights: plain multi-head attention
    # where query head h reads what GQA's kv head h // group holds.
    for ex in (mha.speech, mha.vision):
        for L in ex.layers:
            for w in ("wk", "wv", "bk", "bv"):
                if L[w] is not None:
                    heads = L[w].view(mha.kv_heads, hd, -1) if L[w].dim() == 2 else L[w].view(mha.kv_heads, hd)
                    L[w] = heads.repeat_interleave(group, 0).reshape(mha.heads * hd, *L[w].shape[1:])
    mha.kv_heads = mha.heads
    items = mixed_items(g, seed=15)
    r1, r2 = R.forward(g, items)[1], R.forward(mha, items)[1]
    worst = max(rel_err(a, b) for a, b in zip(r1, r2))
    assert worst < 1e-12, worst


def test_generate_protocol_bookkeeping():
    m = R.Model(TINY)
    items = mixed_items(m, seed=16)
    for mt, ma in ((1, 1), (2, 3), (40, 40)):
        text, actions, margins = R.generate(m, items, mt, ma)
        t = m.tokens
        assert 1 <= len(text) <= mt and actions[0] == t["boa"] and 1 <= len(actions) <= ma
        assert t["eot"] not in text[1:-1] and t["eoa"] not in actions[1:-1]
        assert len(text) == mt or text[-1] == t["eot"] or (len(text) == 1)
        assert all(t["action_first"] <= a <= t["action_last"] or a == t["eoa"] for a in actions[1:])
        assert len(margins) == len(text) + len(actions) - 1


def test_tiny_layout():
    _, dtypes, _ = io.read_model_dir(TINY)
    special = {k: v for k, v in dtypes.items() if v != "BF16"}
    assert sorted(special.values()) == ["F16", "F32"], special
    assert any(k.endswith("additional_embedding") for k in special)
    assert os.path.exists(os.path.join(TINY, "model.safetensors.index.json"))
    m = R.Model(TINY)
    assert not m.unused and not m.aliases
    assert m.speech.head.shape[0] == 317 and m.vision.head.shape[0] == 800
    size = sum(os.path.getsize(os.path.join(TINY, f)) for f in os.listdir(TINY))
    assert size < 5 * 1024 * 1024, size


def test_goldens_regenerate_and_cli():
    """The committed goldens equal a fresh run, and the CLI writes the §6 JSON contract."""
    fresh = os.path.join(_tmp.name, "goldens")
    make_goldens.write_goldens(R.Model(TINY), fresh)
    for name in make_goldens.SEQUENCES:
        for suffix in (".seq.json", ".generate.json", ".forward.safetensors"):
            with open(os.path.join(GOLDENS, name + suffix), "rb") as f1, open(os.path.join(fresh, name + suffix), "rb") as f2:
                assert f1.read() == f2.read(), name + suffix
    name = "spliced_audio"
    seq = os.path.join(GOLDENS, name + ".seq.json")
    out_f, out_g = os.path.join(_tmp.name, "f.json"), os.path.join(_tmp.name, "g.json")
    ref = os.path.join(HERE, "ellsa_ref.py")
    subprocess.run([sys.executable, ref, "forward", "--model", TINY, "--input", seq, "--output", out_f], check=True)
    gold = json.load(open(os.path.join(GOLDENS, name + ".generate.json")))
    subprocess.run([sys.executable, ref, "generate", "--model", TINY, "--input", seq, "--output", out_g,
                    "--max-text", str(gold["max_text"]), "--max-action", str(gold["max_action"])], check=True)
    fwd = json.load(open(out_f))
    t, _, meta = io.read_file(os.path.join(GOLDENS, name + ".forward.safetensors"))
    assert fwd["experts"] == meta["experts"] and len(fwd["logits"]) == len(meta["experts"])
    for i, row in enumerate(fwd["logits"]):
        assert len(row) == t["widths"][i]
        assert np.array_equal(np.asarray(row, dtype=np.float32), t["logits"][i, :len(row)])
        assert not t["logits"][i, len(row):].any()
    g = json.load(open(out_g))
    assert g == {"text_ids": gold["text_ids"], "action_ids": gold["action_ids"]}
    # Errors name the problem and exit non-zero.
    bad = os.path.join(_tmp.name, "bad.json")
    json.dump({"segments": [{"ids": [1, 2]}, {"embeddings": [[0.0] * 3]}]}, open(bad, "w"))
    p = subprocess.run([sys.executable, ref, "forward", "--model", TINY, "--input", bad, "--output", out_f],
                       capture_output=True, text=True)
    assert p.returncode != 0 and "embeddings[0]" in p.stderr, p.stderr


def main():
    tests = [(n, f) for n, f in sorted(globals().items(), key=lambda kv: 0) if n.startswith("test_") and callable(f)]
    failed = 0
    for name, fn in tests:
        try:
            fn()
            print(f"PASS {name}")
        except Exception as e:  # report every check, not just the first failure
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")
    print(f"{len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
