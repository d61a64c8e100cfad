#!/bin/sh
# Checkpoints with shapes the engine is never tuned on, and their goldens from the float64
# reference: odd GQA groups, explicit head_dim, merged LoRA under alias spellings, mixed and
# f16/f32 storage, one file or several shards. Run from the repository root.
set -e
PY=/usr/bin/python3
OUT=tests/goldens/variants
TOKENS='{"bos": 300, "speech_eos": 301, "bot": 305, "eot": 306, "silence": 307, "bop": 308, "eop": 309, "boa": 700, "eoa": 701, "eof": 703, "img": 707, "boi": 708, "eoi": 709, "visual_base": 736, "visual_count": 64, "action_first": 370, "action_last": 690, "fast_base": 690}'
rm -rf "$OUT"
mkdir -p "$OUT"

# d=96, 3 layers, 6 heads over 2 kv heads (group 3), llama3 with a small original context,
# vision qkv_bias, a random dtype per tensor, unmerged LoRA, one file.
$PY tests/reference/make_checkpoint.py --out "$OUT/d96_mixed/model" --seed 7 --hidden 96 --layers 3 --heads 6 --kv-heads 2 \
  --speech-intermediate 200 --speech-eps 1e-6 --speech-rope-theta 500000 --speech-rope-scaling llama3 \
  --rope-factor 4 --rope-low-freq-factor 1 --rope-high-freq-factor 2 --rope-original-max-pos 32 \
  --speech-vocab 320 --speech-extra 5 --vision-intermediate 136 --vision-eps 1e-5 --vision-rope-theta 1000000 \
  --vision-qkv-bias --vision-vocab 820 --lora unmerged --lora-r 4 --lora-alpha 8 --dtype mixed --shards 1 --boost 4 \
  --tokens "$TOKENS"

# d=80 with an explicit head_dim 24 (q width 120 != d), 5 heads over 5 kv heads (plain MHA),
# q/k/v biases on both experts, LoRA merged and stored under the merged alias spellings, f32, 3 shards.
$PY tests/reference/make_checkpoint.py --out "$OUT/merged_f32/model" --seed 11 --hidden 80 --layers 2 --heads 5 --kv-heads 5 \
  --head-dim 24 --speech-intermediate 144 --speech-eps 1e-5 --speech-rope-theta 10000 --speech-rope-scaling none \
  --speech-vocab 330 --speech-extra 3 --speech-qkv-bias --vision-intermediate 112 --vision-eps 1e-6 \
  --vision-rope-theta 50000 --vision-qkv-bias --vision-vocab 810 --lora merged --lora-r 6 --lora-alpha 3 \
  --dtype f32 --shards 3 --boost 4 --tokens "$TOKENS"

# d=64, 4 layers, 8 heads over 2 kv heads (group 4), head_dim 8, f16 storage, no LoRA, 2 shards.
$PY tests/reference/make_checkpoint.py --out "$OUT/gqa4_f16/model" --seed 13 --hidden 64 --layers 4 --heads 8 --kv-heads 2 \
  --speech-intermediate 96 --speech-eps 1e-5 --speech-rope-theta 500000 --speech-rope-scaling llama3 \
  --rope-factor 8 --rope-low-freq-factor 1 --rope-high-freq-factor 4 --rope-original-max-pos 16 \
  --speech-vocab 312 --speech-extra 7 --vision-intermediate 160 --vision-eps 1e-6 --vision-rope-theta 1000000 \
  --no-vision-qkv-bias --vision-vocab 800 --lora none --dtype f16 --shards 2 --boost 4 --tokens "$TOKENS"

for v in d96_mixed merged_f32 gqa4_f16; do
  $PY tests/reference/make_goldens.py --model "$OUT/$v/model" --out "$OUT/$v" --only speech_block acting_block spliced_audio ends_in_vision
done
