"""The smallest stand-in for `transformers.Qwen2ForCausalLM` that CosyVoice2's speech-token LM needs.

THIS IS NOT THE AUTHORS' CODE. `transformers` is not installable here (Debian has no package, and its
source is too large to mirror), and the speech LM (`cosyvoice/llm/llm.py`, `Qwen2Encoder`) only imports
`Qwen2ForCausalLM` and calls it as
    Qwen2ForCausalLM.from_pretrained(path)                                    (Qwen2Encoder.__init__)
    model(inputs_embeds=xs, attention_mask=m, output_hidden_states=True,
          return_dict=True, use_cache=True, past_key_values=cache)          (Qwen2Encoder.forward_one_step)
    .hidden_states[-1], .past_key_values
so this module reproduces exactly that surface and Qwen2's math (transformers' modeling_qwen2.py):
  x -> for each layer: h = x + o_proj(Attn(RMSNorm_in(x))); x = h + down(silu(gate(n)) * up(n)), n = RMSNorm_post(h)
  -> RMSNorm_final. Attention: q/k/v Linear WITH bias, o_proj without; GQA (each of the kv heads serves
  heads/kv_heads query heads); RoPE "rotate_half" (pairs (i, i + d/2)), inv_freq_i = theta^(-2i/d), angle =
  position * inv_freq; scores / sqrt(d); causal over the cache + the new positions; positions continue from
  the cache length. RMSNorm: x / sqrt(mean(x^2) + eps) * weight.
`hidden_states` is transformers' tuple: the input embeddings, the output of every layer but the last,
and the FINAL-NORMED output of the last layer (so `hidden_states[-1]` is post-norm, as CosyVoice uses it).
`past_key_values` is the legacy tuple form ((k, v) per layer, new tensors every call), which is what
transformers returns when given None or tuples: CosyVoice's "restore the cache" (`cache = lastcache`)
then really restores it.

Deliberate differences from transformers, all in the direction of float64 exactness: transformers
computes RoPE's inv_freq and the RMSNorm and attention softmax in float32 even for a float64 model; this
shim stays in the model's dtype. The weight names are transformers' (`model.layers.N.self_attn.q_proj`, ...,
`model.norm`, `model.embed_tokens`, `lm_head` tied to embed_tokens when `tie_word_embeddings`).

`reference_forward` is a second, independent formulation (numpy, float64, whole sequence at once,
RoPE as complex rotation, GQA by index) used to cross-check this module on every golden run.
"""

import json
import math
import os
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CONFIG_KEYS = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
               "num_key_value_heads", "rms_norm_eps", "rope_theta", "vocab_size", "max_position_embeddings",
               "tie_word_embeddings")


class Qwen2Config(SimpleNamespace):
    """config.json of a Qwen2 model: only the keys the math needs (others are kept, unused)."""

    def __init__(self, **kw):
        missing = [k for k in CONFIG_KEYS if k not in kw]
        if missing:
            raise ValueError(f"qwen2 config: missing {', '.join(missing)}")
        if kw.get("hidden_act", "silu") != "silu":
            raise ValueError(f"qwen2 config: hidden_act {kw['hidden_act']!r} (only silu)")
        if kw.get("use_sliding_window", False):
            raise ValueError("qwen2 config: use_sliding_window is not supported")
        if kw.get("rope_scaling"):
            raise ValueError("qwen2 config: rope_scaling is not supported")
        super().__init__(**kw)
        self.head_dim = self.hidden_size // self.num_attention_heads


class Qwen2RMSNorm(nn.Module):
    def __init__(self, size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def _rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Qwen2Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        d = c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, c.num_attention_heads * d, bias=True)
        self.k_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * d, bias=True)
        self.v_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * d, bias=True)
        self.o_proj = nn.Linear(c.num_attention_heads * d, c.hidden_size, bias=False)

    def forward(self, x, positions, past):
        c, (b, n, _) = self.c, x.shape
        d, h, kvh = c.head_dim, c.num_attention_heads, c.num_key_value_heads
        q = self.q_proj(x).view(b, n, h, d).transpose(1, 2)
        k = self.k_proj(x).view(b, n, kvh, d).transpose(1, 2)
        v = self.v_proj(x).view(b, n, kvh, d).transpose(1, 2)
        inv_freq = 1.0 / (c.rope_theta ** (torch.arange(0, d, 2, dtype=x.dtype) / d))
        angle = positions.to(x.dtype)[:, None] * inv_freq[None, :]
        cos = torch.cat((angle, angle), -1).cos()
        sin = torch.cat((angle, angle), -1).sin()
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        if past is not None:
            k = torch.cat((past[0], k), dim=2)
            v = torch.cat((past[1], v), dim=2)
        present = (k, v)
        group = h // kvh
        kk = k.repeat_interleave(group, dim=1)
        vv = v.repeat_interleave(group, dim=1)
        scores = q @ kk.transpose(-1, -2) / math.sqrt(d)
        total = kk.shape[2]
        key_pos = torch.arange(total)
        allowed = key_pos[None, :] <= positions[:, None]  # query at absolute p sees keys 0..p
        scores = scores.masked_fill(~allowed, float("-inf"))
        out = torch.softmax(scores, dim=-1) @ vv
        return self.o_proj(out.transpose(1, 2).reshape(b, n, h * d)), present


class Qwen2MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Qwen2DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = Qwen2Attention(c)
        self.mlp = Qwen2MLP(c)
        self.input_layernorm = Qwen2RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.post_attention_layernorm = Qwen2RMSNorm(c.hidden_size, c.rms_norm_eps)

    def forward(self, x, positions, past):
        a, present = self.self_attn(self.input_layernorm(x), positions, past)
        x = x + a
        return x + self.mlp(self.post_attention_layernorm(x)), present


class Qwen2Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([Qwen2DecoderLayer(c) for _ in range(c.num_hidden_layers)])
        self.norm = Qwen2RMSNorm(c.hidden_size, c.rms_norm_eps)


class Qwen2ForCausalLM(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.model = Qwen2Model(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    @classmethod
    def from_pretrained(cls, path):
        """`path`: a directory with config.json. Weights are NOT read: the reference sets them afterwards."""
        with open(os.path.join(path, "config.json")) as f:
            return cls(Qwen2Config(**json.load(f)))

    def forward(self, input_ids=None, inputs_embeds=None, attention_mask=None, past_key_values=None,
                use_cache=True, output_hidden_states=False, return_dict=True):
        if inputs_embeds is None:
            inputs_embeds = self.model.embed_tokens(input_ids)
        x = inputs_embeds
        past_len = 0 if past_key_values is None else past_key_values[0][0].shape[2]
        if attention_mask is not None and not bool(torch.as_tensor(attention_mask).bool().all()):
            raise ValueError("qwen2 shim: a padding attention_mask is not supported (CosyVoice never pads)")
        positions = torch.arange(past_len, past_len + x.shape[1])
        hidden, presents = [x], []
        for i, layer in enumerate(self.model.layers):
            x, present = layer(x, positions, None if past_key_values is None else past_key_values[i])
            presents.append(present)
            hidden.append(x)
        x = self.model.norm(x)
        hidden[-1] = x
        return SimpleNamespace(logits=self.lm_head(x), last_hidden_state=x,
                               hidden_states=tuple(hidden) if output_hidden_states else None,
                               past_key_values=tuple(presents) if use_cache else None)



TRANSFORMERS_INIT = '''"""Shim of `transformers` for CosyVoice's llm.py: only Qwen2ForCausalLM (see qwen2_shim.py)."""
from qwen2_shim import Qwen2ForCausalLM, Qwen2Config  # noqa: F401
__version__ = "shim"
'''


# ---------------------------------------------------------------- independent cross-check

def reference_forward(params, c, embeds):
    """Final-normed hidden states of the whole causal sequence `embeds` [n, hidden] (numpy float64).

    `params` maps transformers' names under `model.` to numpy arrays. Written independently of the
    module above: RoPE as a complex rotation of (x_i + j x_{i+d/2}), GQA by explicit head -> kv-head index,
    softmax through log-sum-exp, one pass over the whole sequence.
    """
    d, h, kvh = c.hidden_size // c.num_attention_heads, c.num_attention_heads, c.num_key_value_heads
    n = embeds.shape[0]
    pos = np.arange(n, dtype=np.float64)
    freq = np.exp(-np.log(c.rope_theta) * np.arange(d // 2) * 2.0 / d)
    rot = np.exp(1j * pos[:, None] * freq[None, :])                      # [n, d/2]

    def rms(x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + c.rms_norm_eps) * w

    def rope(x):                                                          # [n, heads, d]
        z = (x[..., :d // 2] + 1j * x[..., d // 2:]) * rot[:, None, :]
        return np.concatenate([z.real, z.imag], axis=-1)

    x = np.asarray(embeds, dtype=np.float64)
    causal = np.tril(np.ones((n, n), dtype=bool))
    for i in range(c.num_hidden_layers):
        p = lambda name: params[f"model.layers.{i}.{name}"]  # noqa: E731
        a = rms(x, p("input_layernorm.weight"))
        q = rope((a @ p("self_attn.q_proj.weight").T + p("self_attn.q_proj.bias")).reshape(n, h, d))
        k = rope((a @ p("self_attn.k_proj.weight").T + p("self_attn.k_proj.bias")).reshape(n, kvh, d))
        v = (a @ p("self_attn.v_proj.weight").T + p("self_attn.v_proj.bias")).reshape(n, kvh, d)
        out = np.empty((n, h, d))
        for head in range(h):
            g = head * kvh // h
            s = (q[:, head, :] @ k[:, g, :].T) / np.sqrt(d)
            s = np.where(causal, s, -np.inf)
            s = s - s.max(axis=1, keepdims=True)
            w = np.exp(s - np.log(np.exp(s).sum(axis=1, keepdims=True)))
            out[:, head, :] = w @ v[:, g, :]
        x = x + out.reshape(n, h * d) @ p("self_attn.o_proj.weight").T
        m = rms(x, p("post_attention_layernorm.weight"))
        gate = m @ p("mlp.gate_proj.weight").T
        x = x + ((gate / (1 + np.exp(-gate))) * (m @ p("mlp.up_proj.weight").T)) @ p("mlp.down_proj.weight").T
    return rms(x, params["model.norm.weight"])
