#!/usr/bin/python3
"""The FAST action codec in numpy/scipy (02-protocol.md §3): the independent reference for
src/Ellsa.Runtime/Codecs/Fast. Follows the published processor's steps (DCT-II ortho along time,
x scale, numpy round half-to-even, chr(max(q - min_token, 0)), BPE) and the evaluation wrapper's
quantile de-normalisation; nothing here is shared with the C# code.
"""

import json
import math
import os

import numpy as np
from scipy.fft import dct, idct

import fast_bpe


class FastCodec:
    def __init__(self, assets_dir, time_horizon=10, action_dim=7, norm_stats=None):
        with open(os.path.join(assets_dir, "processor_config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        self.scale = float(cfg["scale"])
        self.min_token = int(cfg["min_token"])
        self.vocab_size = int(cfg["vocab_size"])
        self.T = cfg.get("time_horizon") or time_horizon
        self.D = cfg.get("action_dim") or action_dim
        self.bpe = fast_bpe.Tokenizer(os.path.join(assets_dir, "tokenizer.json"))
        self.q01 = self.q99 = None
        if norm_stats is not None:
            self.q01 = np.asarray(norm_stats["q01"], dtype=np.float64)
            self.q99 = np.asarray(norm_stats["q99"], dtype=np.float64)
        # |DCT-II ortho coefficient| <= sqrt(T) for inputs in [-1, 1] (Cauchy-Schwarz on a unit
        # row); 8 quantisation steps of slack, as the C# codec documents.
        self.max_abs_q = math.ceil(math.sqrt(self.T) * self.scale) + 8

    def encode(self, normalized):
        return self.bpe.encode(fast_string(normalized, self.scale, self.min_token))

    def normalize(self, env):
        env = np.asarray(env, np.float64)
        return np.clip(2 * (env - self.q01) / (self.q99 - self.q01 + 1e-8) - 1, -1, 1)

    def denormalize(self, normalized):
        env = 0.5 * (np.asarray(normalized, np.float64) + 1) * (self.q99 - self.q01) + self.q01
        env[:, -1] = np.where(env[:, -1] > 0, 1.0, -1.0)
        return env

    def noop_env(self):
        row = np.zeros(self.D)
        row[-1] = -1.0
        return np.tile(row, (self.T, 1))

    def noop_normalized(self):
        return self.normalize(self.noop_env())

    def decode(self, ids):
        """(normalized, env or None, problems) with the engine's safety rules on top of the
        reference's steps; a problem yields the safe no-op chunk."""
        problems = []
        bad_ids = [i for i in ids if not (0 <= i < self.vocab_size and i in self.bpe.id_to_token)]
        if bad_ids:
            problems.append("unknown ids %s" % bad_ids)
        if not ids:
            problems.append("empty")
        if not problems:
            raw = self.bpe.decode_bytes(ids)
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                problems.append("invalid utf-8")
            q = np.array([ord(c) for c in raw.decode("utf-8", errors="replace")]) + self.min_token
            if len(q) > self.T * self.D:
                problems.append("too many coefficients")
            if len(q) and np.abs(q).max() > self.max_abs_q:
                problems.append("coefficient too large")
        if problems:
            normalized = self.noop_normalized() if self.q01 is not None \
                else np.zeros((self.T, self.D))
            env = self.noop_env() if self.q01 is not None else None
            return normalized, env, problems
        q = np.pad(q, (0, self.T * self.D - len(q))).reshape(self.T, self.D)
        normalized = idct(q / self.scale, type=2, axis=0, norm="ortho")
        env = self.denormalize(normalized) if self.q01 is not None else None
        return normalized, env, problems


def smooth_chunks(rng, count, T=10, D=7):
    """Random smooth normalised chunks in [-1, 1], float32: offset + trend + one slow sinusoid +
    small noise per arm dim; the gripper is +-1, sometimes switching once inside the chunk."""
    out = []
    t = np.arange(T, dtype=np.float64)
    for _ in range(count):
        a = np.empty((T, D))
        for d in range(D - 1):
            a[:, d] = (rng.uniform(-0.6, 0.6) + rng.uniform(-0.3, 0.3) * (t / (T - 1) - 0.5)
                       + rng.uniform(0, 0.3) * np.sin(2 * np.pi * rng.uniform(0, 1) * t / T
                                                      + rng.uniform(0, 2 * np.pi))
                       + rng.normal(0, 0.02, T))
        g = rng.choice([-1.0, 1.0])
        a[:, D - 1] = g
        if rng.uniform() < 0.2:
            a[rng.integers(1, T):, D - 1] = -g
        out.append(np.clip(a, -1, 1).astype(np.float32))
    return out


def fast_string(normalized, scale, min_token):
    """The processor's coefficient string: chr(max(round(DCT * scale) - min_token, 0)), k-major."""
    q = np.around(dct(np.asarray(normalized, np.float64), type=2, axis=0, norm="ortho") * scale)
    return "".join(chr(int(v)) for v in np.maximum(q.flatten() - min_token, 0))
