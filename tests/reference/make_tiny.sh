#!/bin/sh
# Regenerates weights/tiny (the committed tiny ELLSA checkpoint). Run from the repository root:
#   sh tests/reference/make_tiny.sh
# Debian's interpreter is used on purpose: it has torch/numpy (a pyenv python3 may not).
# Only the model files are rewritten; codec assets added to weights/tiny later are left alone.
set -e
/usr/bin/python3 tests/reference/make_checkpoint.py --out weights/tiny --seed 20240611 \
  --hidden 64 --layers 2 --heads 4 --kv-heads 2 \
  --speech-intermediate 160 --speech-eps 1e-5 --speech-rope-theta 500000 \
  --speech-rope-scaling llama3 --rope-factor 8 --rope-low-freq-factor 1 --rope-high-freq-factor 4 \
  --rope-original-max-pos 64 --speech-vocab 310 --speech-extra 7 \
  --vision-intermediate 192 --vision-eps 1e-6 --vision-rope-theta 1000000 --vision-qkv-bias \
  --vision-vocab 800 --max-position-embeddings 8192 \
  --lora unmerged --lora-r 8 --lora-alpha 16 \
  --dtype bf16 --dtype-override additional_embedding=f32 \
  --dtype-override vision_expert.model.base_model.model.layers.1.post_attention_layernorm.weight=f16 \
  --shards 2 --boost 4 \
  --tokens '{"bos": 300, "speech_eos": 301, "bot": 305, "eot": 306, "silence": 307, "bop": 308, "eop": 309, "boa": 700, "eoa": 701, "eof": 703, "img": 707, "boi": 708, "eoi": 709, "visual_base": 736, "visual_count": 64, "action_first": 370, "action_last": 690, "fast_base": 690}'
# The speech encoder (speech_encoder.safetensors + the "speech_encoder" section of ellsa.json); it reads
# hidden_size from the config.json written above.
/usr/bin/python3 tests/reference/make_speech_encoder.py tiny
# The speech decoder (speech_decoder.safetensors, speech_prompt.safetensors + the "speech_decoder" section of
# ellsa.json); its generator_proj reads the tiny model's 64-wide hidden rows.
/usr/bin/python3 tests/reference/make_speech_decoder.py tiny
