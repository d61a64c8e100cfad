#!/usr/bin/python3
"""Write tests/goldens/fast/*.json from the independent Python references (fast_codec_ref.py:
scipy DCT; fast_bpe.py: pure-Python byte-level BPE over tokenizer.json).

  libero.json  the released FAST assets (../shared/data/fast) with LIBERO quantile stats
  tiny.json    the tiny assets (weights/tiny/fast, weights/tiny/norm_stats.json key "tiny")
  text.json    tokenizer goldens: ids and pre-tokenised pieces of fixed strings for the LIBERO FAST
               tokenizer, the tiny FAST tokenizer and the tiny Llama-3-shaped text tokenizer;
               decodes (invalid UTF-8, skipped specials); two synthetic tokenizers on which
               ignore_merges changes the result.

Codec goldens hold: the no-op chunk and its ids (for LIBERO they must be
[482, 1168, 295, 439, 261, 827], 02-protocol.md §3.6); 20 seeded random smooth normalised chunks
(float32 values), their ids and the decode of those ids (normalised and env units); env-unit
chunks with their ids (the training normalisation, clipping included); hand-made coefficient
strings around the safety bound; malformed id sequences, which must give the safe chunk.

Run from the repository root:  /usr/bin/python3 tests/reference/fast_reference.py
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fast_bpe  # noqa: E402
import fast_codec_ref  # noqa: E402

TEXTS = [
    "",
    "   ",
    "Hello world! I'm fine, thanks.",
    "The robot picks up the red cup.\nThen it stops.\n\n  Done   ",
    "We're sure they'll've it. DON'T SHOULDN'T 'S 'Re 've'd",
    "Numbers: 1 12 123 1234 12345 3.14159 2024-06-11 ١٢٣٤",
    "Accents: café naïve façade résumé Ångström Ærøskøbing",
    "CJK: 机器人拿起红色的杯子。日本語のテキスト 한국어",
    "Emoji: 🤖👍🏽 😀abc x😀y 👨‍👩‍👧 !😀",
    "Supplementary letters: a𝐀b 𝒳𝒴 𠀀𠀁x",
    "<|begin_of_text|><bop>Please answer the question.<eop><bot>",
    "Specials glued: x<eot>y <silence>  <bo <bot<eot>> <|eot_id|>[PAD]",
    "Tabs\tand\r\nwindows\r\n line\u00a0nbsp\u2003em \u3000 end",
    "'''!!! ??? ... --- ***\n\n\n",
    "a\x1cb \x1f c\x0bd",
    "  leading and trailing  \n",
]

BOUND_CASES = [
    ("edge_plus", {0: 40}),
    ("edge_minus", {0: -40, 13: 7}),
    ("short", None),
    ("over_plus", {0: 41}),
    ("over_minus", {5: -41}),
]


def as_list(a):
    return np.asarray(a, np.float64).tolist()


def codec_goldens(codec, rng, chunk_count):
    noop_norm = codec.noop_normalized()
    noop_ids = codec.encode(noop_norm)
    noop_dec, noop_env, problems = codec.decode(noop_ids)
    assert not problems
    out = {
        "time_horizon": codec.T, "action_dim": codec.D, "max_abs_coefficient": codec.max_abs_q,
        "noop": {"normalized": as_list(noop_norm), "ids": noop_ids,
                 "decoded_normalized": as_list(noop_dec), "decoded_actions": as_list(noop_env)},
        "safe": {"normalized": as_list(noop_norm), "actions": as_list(codec.noop_env())},
        "chunks": [], "env_chunks": [], "coefficient_cases": [], "malformed": [],
    }
    for chunk in fast_codec_ref.smooth_chunks(rng, chunk_count, codec.T, codec.D):
        ids = codec.encode(chunk.astype(np.float64))
        dec, env, problems = codec.decode(ids)
        assert not problems, problems
        out["chunks"].append({"normalized": as_list(chunk), "ids": ids,
                              "decoded_normalized": as_list(dec), "decoded_actions": as_list(env)})
    for i, chunk in enumerate(fast_codec_ref.smooth_chunks(rng, 6, codec.T, codec.D)):
        env = 0.5 * (chunk.astype(np.float64) + 1) * (codec.q99 - codec.q01) + codec.q01
        if i % 2:
            env[:, :3] *= 1.6   # beyond the quantiles: the normalisation clips to [-1, 1]
        env = env.astype(np.float32)
        out["env_chunks"].append({"actions": as_list(env),
                                  "ids": codec.encode(codec.normalize(env.astype(np.float64)))})
    n = codec.T * codec.D
    for name, values in BOUND_CASES:
        if values is None:
            q = [3, -2, 0, 1, 0, 0, -30]
        else:
            q = [0] * n
            for k, v in values.items():
                q[k] = v
        ids = codec.bpe.encode("".join(chr(v - codec.min_token) for v in q))
        dec, env, problems = codec.decode(ids)
        out["coefficient_cases"].append({"name": name, "q": q, "ids": ids, "safe": bool(problems),
                                         "normalized": as_list(dec), "actions": as_list(env)})
    byte_id = {b: codec.bpe.vocab[c] for b, c in fast_bpe.BYTE_TO_CHAR.items()}
    malformed = {
        "out_of_range": noop_ids + [codec.vocab_size],
        "negative": [-1] + noop_ids,
        "lone_lead_byte": [byte_id[0xC5]],
        "lone_continuation_byte": noop_ids[:1] + [byte_id[0x80]],
        "too_many_coefficients": noop_ids + noop_ids,
        "ascii_letter": [byte_id[ord("A")]],
        "empty": [],
    }
    for name, ids in malformed.items():
        _, _, problems = codec.decode(ids)
        assert problems, name
        out["malformed"].append({"name": name, "ids": ids})
    return out


def text_goldens(tokenizers):
    cases, decodes = [], []
    for name, tok in tokenizers.items():
        for text in TEXTS:
            ids = tok.encode(text)
            assert tok.decode(ids) == text, (name, text)
            pieces = [p for added, part in tok.split_added(text) if not added
                      for p in tok.pieces(part)]
            cases.append({"tokenizer": name, "text": text, "ids": ids, "pieces": pieces})
        byte_id = {b: tok.vocab[c] for b, c in fast_bpe.BYTE_TO_CHAR.items()}
        for raw in [b"ok\xe6\x9c", b"\x80x", b"a\xc5", b"\xf0\x9f\x98A", b"\xed\xa0\x80z",
                    b"\xc0\xaf", "naïve 😀".encode()]:
            ids = [byte_id[b] for b in raw]
            decodes.append({"tokenizer": name, "ids": ids, "skip_special": False,
                            "text": tok.decode(ids)})
        if tok.special_ids:
            ids = tok.encode("<|begin_of_text|><bot>Sure, I'm on it.<eot><silence>")
            for skip in (False, True):
                decodes.append({"tokenizer": name, "ids": ids, "skip_special": skip,
                                "text": tok.decode(ids, skip_special=skip)})
    clean_up = []
    for text in ["Hello , world . I 'm sure they 're fine ! Isn 't it ? ' quoted ' it 's , we 've",
                 "no change here.", " .. ,, !? "]:
        ids = tokenizers["tiny_text"].encode(text)
        clean_up.append({"ids": ids, "text": fast_bpe.clean_up_tokenization(
            tokenizers["tiny_text"].decode(ids))})
    return {"cases": cases, "decodes": decodes, "clean_up": clean_up,
            "ignore_merges": ignore_merges_goldens()}


def ignore_merges_goldens():
    """vocab bytes + bc, ab, abc with merges [b c, a b, ab c]: BPE on "abc" stops at [a, bc], so
    only ignore_merges can give the whole-word token."""
    vocab = {c: i for i, c in enumerate(sorted(fast_bpe.BYTE_TO_CHAR.values()))}
    for t in ("bc", "ab", "abc"):
        vocab[t] = len(vocab)
    out = []
    for ignore in (False, True):
        cfg = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
               "normalizer": None,
               "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False,
                                 "trim_offsets": True, "use_regex": True},
               "post_processor": None,
               "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                           "use_regex": True},
               "model": {"type": "BPE", "dropout": None, "unk_token": None,
                         "continuing_subword_prefix": None, "end_of_word_suffix": None,
                         "fuse_unk": False, "byte_fallback": False, "ignore_merges": ignore,
                         "vocab": vocab, "merges": ["b c", "a b", "ab c"]}}
        path = "/tmp/ellsa_ignore_merges_%d.json" % ignore
        with open(path, "w", encoding="utf-8") as f:
            json.dump(cfg, f, ensure_ascii=False)
        tok = fast_bpe.Tokenizer(path)
        os.remove(path)
        texts = ["abc", "abcabc", "ab", "xabc abc", "bc"]
        out.append({"tokenizer_json": cfg,
                    "cases": [{"text": t, "ids": tok.encode(t)} for t in texts]})
    assert out[0]["cases"][0]["ids"] != out[1]["cases"][0]["ids"]
    return out


def write_json(path, obj):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared-data", default="../shared/data")
    ap.add_argument("--tiny", default="weights/tiny")
    ap.add_argument("--out", default="tests/goldens/fast")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)

    with open(os.path.join(args.shared_data, "norm_stats", "libero_pre.json"), encoding="utf-8") as f:
        libero_stats = json.load(f)["norm_stats"]["libero"]
    libero = fast_codec_ref.FastCodec(os.path.join(args.shared_data, "fast"),
                                      norm_stats=libero_stats)
    gold = codec_goldens(libero, rng, 20)
    assert gold["noop"]["ids"] == [482, 1168, 295, 439, 261, 827], gold["noop"]["ids"]
    gold.update({"assets": "../shared/data/fast",
                 "norm_stats": {"file": "../shared/data/norm_stats/libero_pre.json",
                                "key": "libero"}})
    write_json(os.path.join(args.out, "libero.json"), gold)

    with open(os.path.join(args.tiny, "norm_stats.json"), encoding="utf-8") as f:
        tiny_stats = json.load(f)["norm_stats"]["tiny"]
    tiny = fast_codec_ref.FastCodec(os.path.join(args.tiny, "fast"), norm_stats=tiny_stats)
    gold = codec_goldens(tiny, rng, 20)
    gold.update({"assets": "weights/tiny/fast",
                 "norm_stats": {"file": "weights/tiny/norm_stats.json", "key": "tiny"}})
    write_json(os.path.join(args.out, "tiny.json"), gold)

    tokenizers = {
        "libero_fast": libero.bpe,
        "tiny_fast": tiny.bpe,
        "tiny_text": fast_bpe.Tokenizer(os.path.join(args.tiny, "tokenizer.json")),
    }
    text = text_goldens(tokenizers)
    text["tokenizers"] = {"libero_fast": "../shared/data/fast/tokenizer.json",
                          "tiny_fast": "weights/tiny/fast/tokenizer.json",
                          "tiny_text": "weights/tiny/tokenizer.json"}
    write_json(os.path.join(args.out, "text.json"), text)


if __name__ == "__main__":
    main()
