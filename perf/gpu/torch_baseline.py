#!/usr/bin/env python3
"""PyTorch eager baseline for the ELLSA CUDA benchmarks, run in the same session on the same GPU.

Measures the two ceilings the floors use (device-to-device copy bandwidth, bf16 matmul rate) and
times the same SA-MoE scenarios as ellsa-perf-gpu with plain torch ops in bf16: two experts of the
Llama-3-8B shape (speech vocab 128271, vision 184622) with random weights, one shared KV cache,
rows grouped by expert for the projections, one causal GQA attention over the whole sequence
(torch.nn.functional.scaled_dot_product_attention), greedy argmax. CUDA events, medians after
warm-up. Writes one JSON object (keys read by perf/Ellsa.Perf.Gpu/TorchBaseline.cs).

usage: torch_baseline.py OUT.json [--size real|small] [--context N] [--repeats N]
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--size", default="real", choices=["real", "small"])
p.add_argument("--context", type=int, default=1024)
p.add_argument("--repeats", type=int, default=10)
args = p.parse_args()

dev = "cuda"
dt = torch.bfloat16
torch.manual_seed(0)
if args.size == "real":
    D, LAYERS, HEADS, KV, HD, FF, VS, VV = 4096, 32, 32, 8, 128, 14336, 128271, 184622
    PREFILLS, HISTORY, SPEECH_BLOCK, ACTING_BLOCK = (512, 2048), 1024, 20, 2600
    COPY_BYTES, MM = 2 << 30, 8192
else:
    D, LAYERS, HEADS, KV, HD, FF, VS, VV = 64, 2, 4, 2, 16, 160, 317, 800
    PREFILLS, HISTORY, SPEECH_BLOCK, ACTING_BLOCK = (24, 48), 32, 8, 40
    COPY_BYTES, MM = 16 << 20, 512
CONTEXT = args.context if args.size == "real" else min(args.context, 64)
QD, KVD = HEADS * HD, KV * HD


def event_ms(fn, warmup=3, repeats=args.repeats, prepare=None):
    samples = []
    for i in range(warmup + repeats):
        if prepare:
            prepare()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        if i >= warmup:
            samples.append(start.elapsed_time(end))
    return statistics.median(samples)


def copy_bandwidth():
    n = COPY_BYTES // 2
    a = torch.randn(n, device=dev, dtype=dt)
    b = torch.empty_like(a)
    ms = event_ms(lambda: b.copy_(a))
    return 2 * n * 2 / (ms * 1e-3) / 1e9


def matmul_rate():
    a = torch.randn(MM, MM, device=dev, dtype=dt)
    b = torch.randn(MM, MM, device=dev, dtype=dt)
    ms = event_ms(lambda: a @ b, warmup=3, repeats=10)
    return 2 * MM ** 3 / (ms * 1e-3) / 1e12


def rope_table(theta, llama3, capacity):
    inv = 1.0 / (theta ** (torch.arange(0, HD, 2, dtype=torch.float64) / HD))
    if llama3:
        factor, low, high, original = 8.0, 1.0, 4.0, 8192
        wavelen = 2 * math.pi / inv
        smooth = (original / wavelen - low) / (high - low)
        scaled = torch.where(wavelen > original / low, inv / factor, inv)
        mid = (wavelen <= original / low) & (wavelen >= original / high)
        inv = torch.where(mid, (1 - smooth) * inv / factor + smooth * inv, scaled)
    angles = torch.arange(capacity, dtype=torch.float64)[:, None] * inv[None, :]
    return torch.cos(angles).to(dev, dt), torch.sin(angles).to(dev, dt)


class Expert:
    def __init__(self, vocab, theta, llama3, capacity):
        def w(rows, cols):
            return (torch.rand(rows, cols, device=dev, dtype=dt) * 2 - 1) * math.sqrt(3.0 / cols)
        self.embed = w(vocab, D)
        self.layers = [dict(n1=torch.ones(D, device=dev, dtype=dt), n2=torch.ones(D, device=dev, dtype=dt),
                            qkv=w(QD + 2 * KVD, D), o=w(D, QD) * 0.5, gu=w(2 * FF, D), down=w(D, FF) * 0.5)
                       for _ in range(LAYERS)]
        self.norm = torch.ones(D, device=dev, dtype=dt)
        self.head = w(vocab, D)
        self.cos, self.sin = rope_table(theta, llama3, capacity)


def rms(x, weight):
    return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-5).to(x.dtype) * weight


def rotate(x, cos, sin):
    half = HD // 2
    a, b = x[..., :half], x[..., half:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], dim=-1)


class Model:
    """SA-MoE eager: per layer, each expert's projections on its rows; one attention over all rows."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.speech = Expert(VS, 500000.0, True, capacity)
        self.vision = Expert(VV, 1000000.0, False, capacity)
        self.k = torch.zeros(LAYERS, KV, capacity, HD, device=dev, dtype=dt)
        self.v = torch.zeros(LAYERS, KV, capacity, HD, device=dev, dtype=dt)
        self.length = 0

    def forward(self, ids, experts):
        """ids: LongTensor [T]; experts: list of 0/1 per row (0 speech, 1 vision). Returns the last row's hidden state."""
        t = ids.shape[0]
        p0 = self.length
        positions = torch.arange(p0, p0 + t, device=dev)
        groups = [(e, torch.tensor([i for i, x in enumerate(experts) if x == k], device=dev))
                  for k, e in ((0, self.speech), (1, self.vision)) if k in experts]
        x = torch.empty(t, D, device=dev, dtype=dt)
        for e, rows in groups:
            x[rows] = e.embed[ids[rows]]
        mask = None
        if t > 1:
            keys = torch.arange(p0 + t, device=dev)
            mask = keys[None, :] <= positions[:, None]
        for l in range(LAYERS):
            q = torch.empty(t, QD, device=dev, dtype=dt)
            for e, rows in groups:
                lw = e.layers[l]
                qkv = rms(x[rows], lw["n1"]) @ lw["qkv"].T
                cos, sin = e.cos[positions[rows]][:, None, :], e.sin[positions[rows]][:, None, :]
                cos, sin = torch.cat([cos, cos], -1), torch.cat([sin, sin], -1)
                qh = rotate(qkv[:, :QD].view(-1, HEADS, HD), cos, sin)
                kh = rotate(qkv[:, QD:QD + KVD].view(-1, KV, HD), cos, sin)
                q[rows] = qh.reshape(-1, QD)
                self.k[l, :, positions[rows]] = kh.transpose(0, 1)
                self.v[l, :, positions[rows]] = qkv[:, QD + KVD:].view(-1, KV, HD).transpose(0, 1)
            kk = self.k[l, :, :p0 + t][None]
            vv = self.v[l, :, :p0 + t][None]
            attn = F.scaled_dot_product_attention(q.view(1, t, HEADS, HD).transpose(1, 2), kk, vv,
                                                  attn_mask=mask, enable_gqa=True)
            attn = attn.transpose(1, 2).reshape(t, QD)
            for e, rows in groups:
                lw = e.layers[l]
                x[rows] += attn[rows] @ lw["o"].T
                gu = rms(x[rows], lw["n2"]) @ lw["gu"].T
                x[rows] += (F.silu(gu[:, :FF]) * gu[:, FF:]) @ lw["down"].T
        self.length += t
        return x[-1]

    def argmax(self, hidden, expert, allowed=None):
        e = self.speech if expert == 0 else self.vision
        logits = rms(hidden, e.norm) @ e.head.T
        if allowed is not None:
            logits = logits.masked_fill(~allowed, float("-inf"))
        return int(torch.argmax(logits))  # the host round trip, as in the engine


capacity = max(HISTORY + ACTING_BLOCK + 100, max(PREFILLS), CONTEXT + 2)
model = Model(capacity)
result = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "size": args.size, "context": CONTEXT}
result["copy_gbps"] = copy_bandwidth()
result["bf16_tflops"] = matmul_rate()
print(f"copy {result['copy_gbps']:.0f} GB/s, bf16 matmul {result['bf16_tflops']:.0f} TFLOP/s", flush=True)
speech_ids = lambda n: torch.arange(1, n + 1, device=dev) % 1000 + 1
BOS, BOT, BOI, EOI, BOA = (128000, 128259, 151852, 151853, 151844) if args.size == "real" else (300, 305, 708, 709, 700)
ACTION_FIRST, ACTION_LAST, EOA = (149594, 151642, 151845) if args.size == "real" else (370, 690, 701)
VISUAL_BASE = 151854 if args.size == "real" else 736
action_mask = torch.zeros(VV, dtype=torch.bool, device=dev)
action_mask[ACTION_FIRST:ACTION_LAST + 1] = True
action_mask[EOA] = True

with torch.inference_mode():
    model.length = 0
    h = model.forward(speech_ids(CONTEXT), [0] * CONTEXT)

    def step(expert, token):
        def run():
            model.length = CONTEXT
            hidden = model.forward(torch.tensor([token], device=dev), [expert])
            model.argmax(hidden, expert)
        return run
    result["decode_speech_ms"] = event_ms(step(0, 17))
    result["decode_vision_ms"] = event_ms(step(1, ACTION_FIRST + 3))
    print(f"decode speech {result['decode_speech_ms']:.2f} ms, vision {result['decode_vision_ms']:.2f} ms", flush=True)

    for n in PREFILLS:
        ids = speech_ids(n)

        def prefill():
            model.length = 0
            model.argmax(model.forward(ids, [0] * n), 0)
        result[f"prefill_{n}_ms"] = event_ms(prefill, warmup=1, repeats=max(3, args.repeats // 2))
        print(f"prefill {n}: {result[f'prefill_{n}_ms']:.2f} ms", flush=True)

    model.length = 0
    model.forward(speech_ids(HISTORY), [0] * HISTORY)

    def block(ids, experts, text_steps, action_steps):
        def run():
            model.length = HISTORY
            token = model.argmax(model.forward(torch.tensor(ids, device=dev), experts), 0)
            for _ in range(text_steps - 1):
                token = model.argmax(model.forward(torch.tensor([token], device=dev), [0]), 0)
            model.forward(torch.tensor([token], device=dev), [0])
            token = BOA
            for _ in range(action_steps):
                token = model.argmax(model.forward(torch.tensor([token], device=dev), [1]), 1, action_mask)
        return run

    speech_block = [BOS] + [int(i) for i in speech_ids(SPEECH_BLOCK - 2)] + [BOT]
    result["speech_block_ms"] = event_ms(block(speech_block, [0] * len(speech_block), 9, 8), warmup=1, repeats=max(3, args.repeats // 2))
    text = min(20, ACTING_BLOCK // 8)
    frame = (ACTING_BLOCK - text - 2) // 2 - 2
    acting = [BOS] + [int(i) for i in speech_ids(text)]
    experts = [0] * len(acting)
    for f in range(2):
        acting += [BOI] + [VISUAL_BASE + (i * 7 + f) % 32768 for i in range(frame)] + [EOI]
        experts += [1] * (frame + 2)
    acting.append(BOT)
    experts.append(0)
    result["acting_block_ms"] = event_ms(block(acting, experts, 10, 25), warmup=1, repeats=max(3, args.repeats // 2))
    print(f"speech-only block {result['speech_block_ms']:.1f} ms, acting block {result['acting_block_ms']:.1f} ms", flush=True)

with open(args.out, "w") as f:
    json.dump(result, f, indent=2)
print(json.dumps(result, indent=2))
