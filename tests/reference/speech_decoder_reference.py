#!/usr/bin/python3
"""Reference for the speech output path (03-speech-out.md): speech-expert hidden rows -> generator_proj ->
CosyVoice2 speech-token LM -> flow (UpsampleConformerEncoder + causal CFM) -> HiFT, computed by THE
AUTHORS' OWN MODULES in float64.

Nothing of the authors' code is committed. `load_authors()` extracts at run time, with `git show`:
  bytedance/SALMONN, branch ELLSA: reference/cosyvoice/{cli/model.py, flow/{flow,flow_matching,decoder}.py,
    hifigan/{generator,f0_predictor}.py, llm/llm.py, transformer/*.py, utils/{common,mask,file_utils,
    class_utils}.py} and reference/cosyvoice/third_party/Matcha-TTS/matcha/models/components/*.py;
  huggingface/diffusers, tag v0.29.0 (what Matcha imports): src/diffusers/models/{attention,
    attention_processor,activations,lora,embeddings,normalization}.py, src/diffusers/utils/torch_utils.py;
into a temporary package tree, adds the shims of speech_decoder_shims.py (einops, conformer, Matcha's
logger, diffusers' utils, transformers = qwen2_shim.py, torch 2.1's weight_norm) and imports them. Their
Qwen2LM, CausalMaskedDiffWithXvec, UpsampleConformerEncoder, CausalConditionalCFM, ConditionalDecoder,
HiFTGenerator, ConvRNNF0Predictor and CosyVoice2Model (token2wav, tts_salmonn) are what run. The two loops
of the evaluation (reference/RoboVLMs/eval/libero/evaluate_speech.py: the speech-LM driver and the
windowed token-to-wave loop) are cut out of THEIR file and exec'd (`driver_snippets`), so the window
arithmetic, the 3-token overlap and the `end_idx > 100` rule are theirs, not a re-implementation.
generator_proj is the nn.Sequential of modeling_emu3_mix.py get_speech_generator, rebuilt here with the
config's widths (`check_emu_generator` fails if those lines changed in the mirror).

Interventions, all documented in tests/goldens/speech_out/README.md:
* widths: UpsampleConformerEncoder hard-codes 512 channels for PreLookaheadLayer and Upsample1D; at another
  width those two modules are rebuilt from THEIR classes with the config's width (same code path);
* float64: `mask_to_bias` (flow/decoder.py) asserts the dtype is float32/bf16/f16, so in a float64 run
  the module's name is bound to a wrapper producing the same 0 / -1e10 bias in float64; HiFT's
  `stft_window` (a plain float32 attribute) is widened to float64; the flow hands HiFT a float32 mel
  (their `.float()`), which HiFT's inference receives widened to float64;
* randomness frozen: SineGen's phases (Uniform) and noise (torch.randn_like) are zero during every run,
  the CFM start noise `rand_noise` is the prompt file's `cfm_noise`, and torch's RNG state is checked to
  be untouched by a run; the LM decodes greedily (`GreedySampler`).
"""

import contextlib
import functools
import json
import os
import re
import sys
import tempfile
import textwrap
from types import SimpleNamespace

import numpy as np

# The evaluation's loops run under torch.amp.autocast("cuda", bfloat16): on a CPU-only process that
# autocast is disabled, which is what a float64 reference needs. Hide any GPU before torch loads.
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import authors_mirror  # noqa: E402
import safetensors_io  # noqa: E402
import speech_decoder_shims  # noqa: E402

SALMONN_ENV, SALMONN_DEFAULT, BRANCH = "ELLSA_SALMONN_MIRROR", "/work/.mirror/bytedance+SALMONN/repo", "ELLSA"
DIFFUSERS_ENV, DIFFUSERS_DEFAULT, DIFFUSERS_TAG = ("ELLSA_DIFFUSERS_MIRROR", "/work/.mirror/huggingface+diffusers/repo",
                                                   "v0.29.0")
CV = "reference/cosyvoice"
MATCHA = "reference/cosyvoice/third_party/Matcha-TTS/matcha"
EVAL_SCRIPT = "reference/RoboVLMs/eval/libero/evaluate_speech.py"
EMU_MODEL = "reference/Emu3/emu3/mllm/modeling_emu3_mix.py"
# cli/frontend.py and utils/frontend_utils.py are extracted for make_speech_prompt.py only (not imported here).
COSYVOICE_FILES = ["__init__.py", "cli/__init__.py", "cli/frontend.py", "cli/model.py", "flow/decoder.py", "flow/flow.py",
                   "flow/flow_matching.py", "hifigan/generator.py", "hifigan/f0_predictor.py", "llm/llm.py",
                   "transformer/__init__.py", "transformer/activation.py", "transformer/attention.py",
                   "transformer/convolution.py", "transformer/embedding.py", "transformer/encoder_layer.py",
                   "transformer/label_smoothing_loss.py", "transformer/positionwise_feed_forward.py",
                   "transformer/subsampling.py", "transformer/upsample_encoder.py", "utils/__init__.py",
                   "utils/class_utils.py", "utils/common.py", "utils/file_utils.py", "utils/frontend_utils.py",
                   "utils/mask.py"]
MATCHA_FILES = ["__init__.py", "models/__init__.py", "models/components/__init__.py",
                "models/components/decoder.py", "models/components/flow_matching.py",
                "models/components/transformer.py", "utils/audio.py"]
DIFFUSERS_FILES = ["models/attention.py", "models/attention_processor.py", "models/activations.py", "models/lora.py",
                   "models/embeddings.py", "models/normalization.py", "utils/torch_utils.py"]

PREFIX_GENERATOR = "speech_expert.generator."
PREFIX_PROJ = "speech_expert.generator_proj."

# get_speech_generator (modeling_emu3_mix.py): the projection and the chunk overrides this file rebuilds.
EMU_GENERATOR_LINES = [
    "self.generator.llm.text_chunk = 8",
    "self.generator.llm.audio_chunk = 25",
    "self.generator_proj = nn.Sequential(",
    "nn.Linear(self.hidden_size, 2048),",
    "nn.ReLU(),",
    "nn.Linear(2048, self.generator.llm.llm_input_size),",
    "nn.LayerNorm(self.generator.llm.llm_input_size)",
]


# ---------------------------------------------------------------- the authors' modules

_AUTHORS = None


def load_authors(mirror=None, diffusers_mirror=None):
    """Extract and import the authors' modules (once per process); returns a namespace of modules."""
    global _AUTHORS
    if _AUTHORS is not None:
        return _AUTHORS
    mirror = authors_mirror.resolve(mirror, SALMONN_DEFAULT, SALMONN_ENV, BRANCH, "bytedance/SALMONN")
    dmirror = authors_mirror.resolve(diffusers_mirror, DIFFUSERS_DEFAULT, DIFFUSERS_ENV, DIFFUSERS_TAG,
                                     "huggingface/diffusers")
    files = {f"{CV}/{f}": f"cosyvoice/{f}" for f in COSYVOICE_FILES}
    files.update({f"{MATCHA}/{f}": f"matcha/{f}" for f in MATCHA_FILES})
    shims = speech_decoder_shims.files()
    tree = authors_mirror.extract(mirror, BRANCH, files, shims, prefix="cosyvoice-authors-")
    for f in DIFFUSERS_FILES:
        text = authors_mirror.git(dmirror, "show", f"{DIFFUSERS_TAG}:src/diffusers/{f}")
        path = os.path.join(tree, "diffusers", f)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(text)
    weight_norm = speech_decoder_shims.install_weight_norm()
    import importlib
    import importlib.util
    if importlib.util.find_spec("omegaconf") is None:
        sys.exit("error: python3-omegaconf is missing (apt-get install python3-omegaconf): the authors' flow.py "
                 "imports omegaconf.DictConfig")
    import torch
    mods = {k: importlib.import_module(v) for k, v in {
        "llm": "cosyvoice.llm.llm", "flow": "cosyvoice.flow.flow", "fm": "cosyvoice.flow.flow_matching",
        "decoder": "cosyvoice.flow.decoder", "ue": "cosyvoice.transformer.upsample_encoder",
        "gen": "cosyvoice.hifigan.generator", "f0": "cosyvoice.hifigan.f0_predictor",
        "model": "cosyvoice.cli.model", "common": "cosyvoice.utils.common"}.items()}
    mods["omegaconf"] = importlib.import_module("omegaconf")
    commit = authors_mirror.commit_of(mirror, BRANCH)
    eval_text = authors_mirror.git(mirror, "show", f"{BRANCH}:{EVAL_SCRIPT}").decode()
    emu_text = authors_mirror.git(mirror, "show", f"{BRANCH}:{EMU_MODEL}").decode()
    check_emu_generator(emu_text)
    _AUTHORS = SimpleNamespace(
        **mods, torch=torch, tree=tree, commit=commit, eval_text=eval_text,
        diffusers_commit=authors_mirror.commit_of(dmirror, DIFFUSERS_TAG),
        provenance={"authors_repo": "bytedance/SALMONN", "authors_branch": BRANCH, "authors_commit": commit,
                    "authors_files": f"{CV}/**, {MATCHA}/models/components/*, {EVAL_SCRIPT} (loops exec'd)",
                    "diffusers": f"{DIFFUSERS_TAG} ({authors_mirror.commit_of(dmirror, DIFFUSERS_TAG)})",
                    "shims": "einops, conformer, matcha.utils, diffusers.utils, transformers=qwen2_shim "
                             f"(not the authors' code), weight_norm={weight_norm}",
                    "torch": torch.__version__, "numpy": np.__version__})
    return _AUTHORS


def check_emu_generator(text):
    """Fail if get_speech_generator no longer builds generator_proj and the chunks as rebuilt here."""
    start = text.find("def get_speech_generator(self):")
    body = text[start:text.find("\n    def ", start + 10)]
    missing = [line for line in EMU_GENERATOR_LINES if line not in body]
    if start < 0 or missing:
        sys.exit(f"error: {EMU_MODEL}: get_speech_generator changed (missing {missing}); update "
                 "speech_decoder_reference.build")


def driver_snippets(eval_text):
    """The evaluation's two loops, cut out of evaluate_speech.py and dedented for exec:
    `lm`: from `final = False` to the `end_idx > 100` rule (the speech-LM driver, one segment);
    `synth`: from `hift_cache = None` to the last `gen_wavs.append`, minus the `step = N` lines (the
    caller provides `step`)."""
    lines = eval_text.split("\n")

    def index(pattern, start=0):
        for i in range(start, len(lines)):
            if re.fullmatch(pattern, lines[i].strip()):
                return i
        sys.exit(f"error: {EVAL_SCRIPT}: no line matching {pattern!r} (the evaluation loop changed)")

    loop = index(r"for feature in model\.tts_features:")
    lm_start = index(r"final = False", loop)
    rule = index(r"if end_idx > 100:", lm_start)
    lm_end = index(r"final = True", rule)
    synth_start = index(r"hift_cache = None", lm_end)
    indent = len(lines[synth_start]) - len(lines[synth_start].lstrip())
    synth_end = synth_start
    for i in range(synth_start, len(lines)):
        s = lines[i]
        if s.strip() and len(s) - len(s.lstrip()) < indent:
            break
        if s.strip() == "gen_wavs.append(new_gen_wav.clone())":
            synth_end = i
    lm = textwrap.dedent("\n".join(lines[lm_start:lm_end + 1]))
    synth = [s for s in lines[synth_start:synth_end + 1] if not re.fullmatch(r"\s*step = \d+\s*", s)]
    return {"lm": lm, "synth": textwrap.dedent("\n".join(synth)),
            "lm_lines": (lm_start + 1, lm_end + 1), "synth_lines": (synth_start + 1, synth_end + 1)}


# ---------------------------------------------------------------- the "speech_decoder" config section

# Upstream's names (cosyvoice2.yaml and the constructors) with the release's values; what ELLSA's code
# hard-codes or overrides is spelled out in tests/goldens/speech_out/README.md.
RELEASE = {
    "weights": "speech_decoder.safetensors",
    "prompt": "speech_prompt.safetensors",
    "generator_proj": {"input_size": 4096, "hidden_size": 2048, "output_size": 896, "layer_norm_eps": 1e-5},
    "llm": {
        "llm_input_size": 896, "llm_output_size": 896, "speech_token_size": 6561,
        "text_chunk": 8, "audio_chunk": 25, "ratio": 3.75,
        "min_token_text_ratio": 2, "max_token_text_ratio": 15, "stream_text_limit": 100,
        "sampling": {"name": "ras_sampling", "top_p": 0.8, "top_k": 25, "win_size": 10, "tau_r": 0.1,
                     "max_trials": 50},
        "qwen2": {"hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
                  "num_attention_heads": 14, "num_key_value_heads": 2, "rms_norm_eps": 1e-6,
                  "rope_theta": 1000000.0, "vocab_size": 151936, "max_position_embeddings": 32768,
                  "tie_word_embeddings": True, "hidden_act": "silu"},
    },
    "flow": {
        "input_size": 512, "output_size": 80, "spk_embed_dim": 192, "output_type": "mel", "vocab_size": 6561,
        "input_frame_rate": 25, "token_mel_ratio": 2, "pre_lookahead_len": 3, "n_timesteps": 10,
        "encoder": {"output_size": 512, "attention_heads": 8, "linear_units": 2048, "num_blocks": 6,
                    "num_up_blocks": 4, "up_stride": 2, "input_layer": "linear",
                    "pos_enc_layer_type": "rel_pos_espnet", "selfattention_layer_type": "rel_selfattn",
                    "activation_type": "swish", "normalize_before": True, "macaron_style": False,
                    "use_cnn_module": False, "use_dynamic_chunk": False, "key_bias": True,
                    "static_chunk_size": 50},
        "decoder": {"in_channels": 240, "n_spks": 1, "spk_emb_dim": 80,
                    "cfm_params": {"sigma_min": 1e-6, "solver": "euler", "t_scheduler": "cosine",
                                   "training_cfg_rate": 0.2, "inference_cfg_rate": 0.7, "reg_loss_type": "l1"},
                    "estimator": {"in_channels": 320, "out_channels": 80, "causal": True, "channels": [256],
                                  "dropout": 0.0, "attention_head_dim": 64, "n_blocks": 4, "num_mid_blocks": 12,
                                  "num_heads": 8, "act_fn": "gelu", "static_chunk_size": 100}},
    },
    "hift": {
        "in_channels": 80, "base_channels": 512, "nb_harmonics": 8, "sampling_rate": 24000, "nsf_alpha": 0.1,
        "nsf_sigma": 0.003, "nsf_voiced_threshold": 10, "upsample_rates": [8, 5, 3],
        "upsample_kernel_sizes": [16, 11, 7], "istft_params": {"n_fft": 16, "hop_len": 4},
        "resblock_kernel_sizes": [3, 7, 11], "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "source_resblock_kernel_sizes": [7, 7, 11],
        "source_resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "lrelu_slope": 0.1, "audio_limit": 0.99,
        "f0_predictor": {"num_class": 1, "in_channels": 80, "cond_channels": 512},
    },
    "streaming": {"mel_cache_len": 8, "source_cache_len": 3840, "window_step": 5000, "window_lookahead": 3},
}


def merged(overrides, base=RELEASE):
    """`base` with `overrides` applied recursively (dicts merge, everything else replaces)."""
    out = json.loads(json.dumps(base))
    for k, v in overrides.items():
        out[k] = merged(v, out[k]) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def check_fixed(sd):
    """What the authors' code hard-codes cannot be configured away: refuse configs that disagree."""
    f, e = sd["flow"], sd["flow"]["encoder"]
    fixed = [("flow.output_size", f["output_size"], 80), ("flow.pre_lookahead_len", f["pre_lookahead_len"], 3),
             ("flow.encoder.up_stride", e["up_stride"], f["token_mel_ratio"]), ("flow.token_mel_ratio",
             f["token_mel_ratio"], 2), ("flow.encoder.num_up_blocks", e["num_up_blocks"], 4),
             ("flow.input_size", f["input_size"], e["output_size"]), ("flow.n_timesteps", f["n_timesteps"], 10),
             ("flow.encoder.static_chunk_size", e["static_chunk_size"], 2 * f["input_frame_rate"]),
             ("flow.decoder.estimator.static_chunk_size", f["decoder"]["estimator"]["static_chunk_size"],
              2 * f["input_frame_rate"] * f["token_mel_ratio"]),
             ("streaming.window_lookahead", sd["streaming"]["window_lookahead"], 3),
             ("llm.stream_text_limit", sd["llm"]["stream_text_limit"], 100),
             ("llm.sampling.max_trials", sd["llm"]["sampling"]["max_trials"], 50),
             ("generator_proj.output_size", sd["generator_proj"]["output_size"], sd["llm"]["llm_input_size"]),
             ("llm.llm_input_size", sd["llm"]["llm_input_size"], sd["llm"]["qwen2"]["hidden_size"])]
    bad = [f"{name} = {have} (the authors' code fixes {want})" for name, have, want in fixed if have != want]
    if bad:
        raise ValueError("speech_decoder config: " + "; ".join(bad))


# ---------------------------------------------------------------- building their model

def build(a, sd, dtype):
    """The authors' CosyVoice2Model (llm, flow, hift) and generator_proj for config section `sd`, in `dtype`."""
    torch = a.torch
    check_fixed(sd)
    L, F, H = sd["llm"], sd["flow"], sd["hift"]
    E, D = F["encoder"], F["decoder"]
    with tempfile.TemporaryDirectory(prefix="qwen2-config-") as qdir:
        with open(os.path.join(qdir, "config.json"), "w") as fh:
            json.dump(L["qwen2"], fh)
        qwen = a.llm.Qwen2Encoder(qdir)
    s = L["sampling"]
    sampling = functools.partial(a.common.ras_sampling, top_p=s["top_p"], top_k=s["top_k"], win_size=s["win_size"],
                                 tau_r=s["tau_r"])
    llm = a.llm.Qwen2LM(L["llm_input_size"], L["llm_output_size"], L["speech_token_size"], qwen, sampling,
                        length_normalized_loss=True, lsm_weight=0, mix_ratio=[5, 15])
    # get_speech_generator overrides the chunks after construction; `ratio` keeps the constructor's 15/4.
    llm.text_chunk, llm.audio_chunk, llm.only_streaming_training = L["text_chunk"], L["audio_chunk"], True
    llm.ratio = L["ratio"]
    enc = a.ue.UpsampleConformerEncoder(
        input_size=F["input_size"], output_size=E["output_size"], attention_heads=E["attention_heads"],
        linear_units=E["linear_units"], num_blocks=E["num_blocks"], dropout_rate=0.1, positional_dropout_rate=0.1,
        attention_dropout_rate=0.1, input_layer=E["input_layer"], pos_enc_layer_type=E["pos_enc_layer_type"],
        normalize_before=E["normalize_before"], use_dynamic_chunk=E["use_dynamic_chunk"],
        macaron_style=E["macaron_style"], selfattention_layer_type=E["selfattention_layer_type"],
        activation_type=E["activation_type"], use_cnn_module=E["use_cnn_module"], key_bias=E["key_bias"])
    if E["output_size"] != 512:  # their constructor hard-codes 512 for these two (upsample_encoder.py)
        enc.pre_lookahead_layer = a.ue.PreLookaheadLayer(channels=E["output_size"], pre_lookahead_len=3)
        enc.up_layer = a.ue.Upsample1D(channels=E["output_size"], out_channels=E["output_size"], stride=2)
    es = D["estimator"]
    estimator = a.decoder.ConditionalDecoder(
        in_channels=es["in_channels"], out_channels=es["out_channels"], causal=es["causal"], channels=es["channels"],
        dropout=es["dropout"], attention_head_dim=es["attention_head_dim"], n_blocks=es["n_blocks"],
        num_mid_blocks=es["num_mid_blocks"], num_heads=es["num_heads"], act_fn=es["act_fn"])
    cfm = a.fm.CausalConditionalCFM(in_channels=D["in_channels"], cfm_params=a.omegaconf.DictConfig(D["cfm_params"]),
                                    n_spks=D["n_spks"], spk_emb_dim=D["spk_emb_dim"], estimator=estimator)
    flow = a.flow.CausalMaskedDiffWithXvec(
        input_size=F["input_size"], output_size=F["output_size"], spk_embed_dim=F["spk_embed_dim"],
        output_type=F["output_type"], vocab_size=F["vocab_size"], input_frame_rate=F["input_frame_rate"],
        only_mask_loss=True, token_mel_ratio=F["token_mel_ratio"], pre_lookahead_len=F["pre_lookahead_len"],
        encoder=enc, decoder=cfm)
    f0c = H["f0_predictor"]
    hift = a.gen.HiFTGenerator(
        in_channels=H["in_channels"], base_channels=H["base_channels"], nb_harmonics=H["nb_harmonics"],
        sampling_rate=H["sampling_rate"], nsf_alpha=H["nsf_alpha"], nsf_sigma=H["nsf_sigma"],
        nsf_voiced_threshold=H["nsf_voiced_threshold"], upsample_rates=H["upsample_rates"],
        upsample_kernel_sizes=H["upsample_kernel_sizes"], istft_params=H["istft_params"],
        resblock_kernel_sizes=H["resblock_kernel_sizes"], resblock_dilation_sizes=H["resblock_dilation_sizes"],
        source_resblock_kernel_sizes=H["source_resblock_kernel_sizes"],
        source_resblock_dilation_sizes=H["source_resblock_dilation_sizes"], lrelu_slope=H["lrelu_slope"],
        audio_limit=H["audio_limit"],
        f0_predictor=a.f0.ConvRNNF0Predictor(num_class=f0c["num_class"], in_channels=f0c["in_channels"],
                                             cond_channels=f0c["cond_channels"]))
    cosy = a.model.CosyVoice2Model(llm, flow, hift, fp16=False)
    if (cosy.flow.encoder.static_chunk_size, cosy.flow.decoder.estimator.static_chunk_size) != (
            E["static_chunk_size"], es["static_chunk_size"]):
        raise AssertionError("CosyVoice2Model set other chunk sizes than the config's")
    # CosyVoice2Model fixes the caches at 8 mel frames and 8 * 480 samples; the config may say otherwise.
    st = sd["streaming"]
    cosy.mel_cache_len, cosy.source_cache_len = st["mel_cache_len"], st["source_cache_len"]
    cosy.speech_window = np.hamming(2 * st["source_cache_len"])
    g = sd["generator_proj"]
    proj = torch.nn.Sequential(torch.nn.Linear(g["input_size"], g["hidden_size"]), torch.nn.ReLU(),
                               torch.nn.Linear(g["hidden_size"], g["output_size"]),
                               torch.nn.LayerNorm(g["output_size"], eps=g["layer_norm_eps"]))
    cosy.eval().to(dtype)
    proj.eval().to(dtype)
    hift.stft_window = hift.stft_window.to(dtype)
    if dtype != torch.float32:
        # The flow returns `feat.float()` (flow.py, flow_matching.py): the mel crosses into HiFT as float32
        # values even in a float64 run; HiFT's float64 convolutions need them widened (values unchanged).
        inference = hift.inference
        hift.inference = lambda speech_feat, cache_source=torch.zeros(1, 1, 0): inference(
            speech_feat=speech_feat.to(dtype), cache_source=cache_source.to(dtype))
    return SimpleNamespace(cosy=cosy, proj=proj, dtype=dtype, sd=sd)


def checkpoint_names(m):
    """{checkpoint name: (module parameter name, shape)} in the release's layout; the tied lm_head is not stored."""
    out = {}
    tied = m.sd["llm"]["qwen2"]["tie_word_embeddings"]
    for k, v in m.cosy.state_dict().items():
        if tied and k == "llm.llm.model.lm_head.weight":
            continue
        out[PREFIX_GENERATOR + k] = ("cosy", k, tuple(v.shape))
    for k, v in m.proj.state_dict().items():
        out[PREFIX_PROJ + k] = ("proj", k, tuple(v.shape))
    return out


def load_weights(m, tensors):
    """Set every module tensor from checkpoint `tensors` (numpy, storage values); exact names, all or nothing."""
    import torch
    names = checkpoint_names(m)
    missing = sorted(set(names) - set(tensors))
    unknown = sorted(set(tensors) - set(names))
    if missing or unknown:
        raise ValueError(f"checkpoint: missing {missing[:5]}, unknown {unknown[:5]}")
    states = {"cosy": {}, "proj": {}}
    for name, (owner, key, shape) in names.items():
        arr = np.asarray(tensors[name], dtype=np.float64)
        if tuple(arr.shape) != shape:
            raise ValueError(f"checkpoint: {name} has shape {list(arr.shape)}, the model wants {list(shape)}")
        states[owner][key] = torch.from_numpy(arr).to(m.dtype)
    result = m.cosy.load_state_dict(states["cosy"], strict=False)
    if result.unexpected_keys or [k for k in result.missing_keys if k != "llm.llm.model.lm_head.weight"]:
        raise ValueError(f"checkpoint: {result}")
    m.proj.load_state_dict(states["proj"], strict=True)


def set_prompt(m, prompt):
    """The fixed conditioning of the flow, from speech_prompt.safetensors tensors (numpy)."""
    import torch
    noise = torch.from_numpy(np.asarray(prompt["cfm_noise"], dtype=np.float64)).to(m.dtype)
    m.cosy.flow.decoder.rand_noise = noise
    m.prompt = SimpleNamespace(
        token=torch.from_numpy(np.asarray(prompt["prompt_token"], dtype=np.int64)).to(torch.int32),
        feat=torch.from_numpy(np.asarray(prompt["prompt_feat"], dtype=np.float64)).to(m.dtype),
        embedding=torch.from_numpy(np.asarray(prompt["embedding"], dtype=np.float64)).to(m.dtype))


def load_model_dir(a, path, dtype):
    """Build the authors' model from a model directory's ellsa.json "speech_decoder" section and its files."""
    with open(os.path.join(path, "ellsa.json")) as fh:
        sd = json.load(fh)["speech_decoder"]
    m = build(a, sd, dtype)
    tensors, dtypes, _ = safetensors_io.read_file(os.path.join(path, sd["weights"]))
    load_weights(m, tensors)
    prompt, _, _ = safetensors_io.read_file(os.path.join(path, sd["prompt"]))
    set_prompt(m, prompt)
    m.storage_dtypes = dtypes
    return m


# ---------------------------------------------------------------- running it with randomness frozen

class GreedySampler:
    """Greedy decoding through the authors' `sampling_ids` loop: the best id that loop accepts.

    Their loop calls `self.sampling(scores, decoded, k)` again with the same scores while it rejects the draw
    (EOS before min_len); a repeated call returns the next-best id, so EOS-rejection yields the best non-EOS
    id. Fill ids (> EOS) are never chosen (their final-phase loop would retry the same input and burn its
    budget). In the interleaved phase the scores are already cut to the first V ids.
    """

    def __init__(self, eos):
        self.eos, self.last, self.rank, self.steps = eos, None, 0, []

    def __call__(self, scores, decoded, k):
        import torch
        if scores is self.last:
            self.rank += 1
            self.steps[-1]["eos_rejected"] = True
        else:
            self.last, self.rank = scores, 0
        s = scores.detach().double().clone()
        s[self.eos + 1:] = -np.inf
        order = torch.argsort(-s, stable=True)
        choice = int(order[self.rank])
        if self.rank == 0:
            self.steps.append({"phase": "interleave" if s.numel() == self.eos else "final",
                               "gap": float(s[order[0]] - s[order[1]]), "eos_rejected": False})
        else:  # rank 1: EOS was the best and is rejected; what matters is the next pair
            self.steps[-1]["gap"] = float(s[order[self.rank]] - s[order[self.rank + 1]])
        self.steps[-1]["id"] = choice
        return torch.tensor([choice])


@contextlib.contextmanager
def frozen_randomness(a, phase64=False):
    """SineGen's random phases and additive noise are zero; torch's global RNG must be left untouched.
    `phase64`: SineGen's cumsum of f0 * h / sr runs in float64 and is reduced mod 1 before returning to the
    model dtype (what a float32 engine must do; used only by the float32 comparison)."""
    import torch
    gen = a.gen

    class ZeroUniform:
        def __init__(self, low, high):
            pass

        def sample(self, sample_shape):
            return torch.zeros(sample_shape, dtype=torch.get_default_dtype())

    saved = (gen.Uniform, torch.randn_like, gen.torch)
    gen.Uniform = ZeroUniform
    torch.randn_like = lambda t, **kw: torch.zeros_like(t, **kw)
    if phase64:
        class Phase64:
            def __getattr__(self, name):
                return getattr(torch, name)

            @staticmethod
            def cumsum(x, dim):
                return (torch.cumsum(x.double(), dim=dim) % 1).to(x.dtype)
        gen.torch = Phase64()
    torch.manual_seed(12345)
    state = torch.get_rng_state()
    try:
        yield
    finally:
        gen.Uniform, torch.randn_like, gen.torch = saved
    if not torch.equal(state, torch.get_rng_state()):
        raise AssertionError("a run consumed torch's RNG: some randomness is not frozen")


@contextlib.contextmanager
def float64_masks(a, dtype):
    """flow/decoder.py's mask_to_bias asserts float32/bf16/f16; give it float32 and widen (0 and -1e10 are exact)."""
    import torch
    original = a.decoder.mask_to_bias
    if dtype == torch.float64:
        a.decoder.mask_to_bias = lambda mask, dt: original(mask, torch.float32).to(dt)
    try:
        yield
    finally:
        a.decoder.mask_to_bias = original


@contextlib.contextmanager
def default_dtype(dtype):
    import torch
    saved = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(saved)


@contextlib.contextmanager
def running(a, m, phase64=False):
    with default_dtype(m.dtype), float64_masks(a, m.dtype), frozen_randomness(a, phase64), a.torch.inference_mode():
        yield


@contextlib.contextmanager
def patched(obj, name, value):
    """obj.name = value for the duration (an instance attribute shadowing a method), then as it was."""
    had = name in obj.__dict__
    saved = obj.__dict__.get(name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        if had:
            setattr(obj, name, saved)
        else:
            delattr(obj, name)


class Capture:
    """Forward hooks that keep copies of module outputs (and the first inputs) per call."""

    def __init__(self, modules):
        self.calls, self.handles = {k: [] for k in modules}, []
        for key, mod in modules.items():
            self.handles.append(mod.register_forward_hook(functools.partial(self._hook, key)))

    def _hook(self, key, mod, inputs, output):
        self.calls[key].append({"in": [x.detach().clone() if hasattr(x, "detach") else x for x in inputs],
                                "out": output})

    def close(self):
        for h in self.handles:
            h.remove()


def tts(a, m, tokens, finalize=True, cache=None):
    """One `CosyVoice2Model.tts_salmonn` call as the evaluation makes it."""
    p = m.prompt
    return m.cosy.tts_salmonn(list(tokens), p.embedding, flow_prompt_speech_token=p.token,
                              prompt_speech_feat=p.feat, finalize=finalize, hift_cache=cache)


class TorchForLoops:
    """`torch` as the exec'd evaluation loops see it: their `torch.amp.autocast("cuda", bfloat16)` is disabled.
    Without CUDA, torch >= 2 disables that autocast with a warning; torch 1.13 raises instead (it probes
    the device for bf16 even when disabling), so the loops get the disabled context directly."""

    def __init__(self, torch):
        self._torch = torch
        self.amp = SimpleNamespace(autocast=lambda *args, **kwargs: contextlib.nullcontext())

    def __getattr__(self, name):
        return getattr(self._torch, name)


def driver_model(m):
    generator = SimpleNamespace(llm=m.cosy.llm, tts_salmonn=m.cosy.tts_salmonn)
    return SimpleNamespace(moe=True, device="cpu", model=SimpleNamespace(speech_expert=SimpleNamespace(
        generator=generator)))


def synthesize(a, m, tokens, step):
    """THEIR windowed loop (evaluate_speech.py) with `step`; returns the emitted pieces in order."""
    snippets = driver_snippets(a.eval_text)
    p = m.prompt
    ns = {"torch": TorchForLoops(a.torch), "model": driver_model(m), "generated": list(tokens), "num_generated": 0, "step": step,
          "spk_embedding": p.embedding, "prompt_speech_token": p.token, "prompt_speech_feat": p.feat,
          "gen_wavs": []}
    exec(compile(snippets["synth"], f"{EVAL_SCRIPT}:{snippets['synth_lines'][0]}", "exec"), ns)
    return [w[0].numpy() for w in ns["gen_wavs"]]


def speech_lm(a, m, feature):
    """THEIR speech-LM driver (evaluate_speech.py) on one segment of generator_proj features [1, n, d],
    decoding greedily. Returns the tokens, whether the driver finished, the raw llm_decoder outputs of
    every forward, and the sampler's per-step record."""
    snippets = driver_snippets(a.eval_text)
    llm = m.cosy.llm
    sampler = GreedySampler(m.sd["llm"]["speech_token_size"])
    saved, llm.sampling = llm.sampling, sampler
    logits = []
    hook = llm.llm_decoder.register_forward_hook(lambda mod, i, o: logits.append(o.detach().clone()))
    calls = []
    original = llm.inference_salmonn_stream

    def traced(*args, **kw):
        out = original(*args, **kw)
        calls.append({"text_idx_num": kw.get("text_idx_num"), "text_len": int(args[1][0]),
                      "new_tokens": len(out[2]), "final": bool(out[3]), "lm_input_len": int(out[0].shape[1])})
        return out
    ns = {"torch": TorchForLoops(a.torch), "model": driver_model(m), "feature": feature}
    try:
        with patched(llm, "inference_salmonn_stream", traced):
            exec(compile(snippets["lm"], f"{EVAL_SCRIPT}:{snippets['lm_lines'][0]}", "exec"), ns)
    finally:
        hook.remove()
        llm.sampling = saved
    return SimpleNamespace(tokens=list(ns.get("generated", [])), final=bool(ns["final"]), logits=logits,
                           steps=sampler.steps, calls=calls)


def rel_l2(x, ref):
    x, ref = np.asarray(x, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if x.shape != ref.shape:
        return float("inf")
    return float(np.linalg.norm(x - ref) / max(np.linalg.norm(ref), 1e-300))
