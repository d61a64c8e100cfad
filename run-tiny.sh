#!/usr/bin/env bash
# Builds the ellsa CLI and runs the main job on the committed tiny model: a 14-block speech
# dialogue session through the duplex engine (timeline in artifacts/out/timeline.jsonl, its speech
# through the tiny speech decoder in artifacts/out/speech.wav), after
# one acting block decoded exactly as the reference's generate does, the tiny vision tokenizer on
# two camera frames, an acting session fed with image files, and a speech dialogue heard from a WAV
# file through the tiny speech encoder (the shared prompt wav, 24 kHz, resampled to 16 kHz).
set -euo pipefail
cd "$(dirname "$0")"
dotnet publish src/Ellsa.Cli -c Release -o artifacts/ellsa --nologo -v quiet
mkdir -p artifacts/out
ellsa=./artifacts/ellsa/ellsa

"$ellsa" inspect --model weights/tiny | tail -n 1
"$ellsa" generate --model weights/tiny \
  --input tests/goldens/tiny/acting_block.seq.json --output artifacts/out/acting_block.json
echo "one acting block (artifacts/out/acting_block.json): $(cat artifacts/out/acting_block.json)"
echo
"$ellsa" duplex --model weights/tiny \
  --input tests/goldens/sessions/speech_14.session.json --output artifacts/out/timeline.jsonl --speech-out artifacts/out/speech.wav
echo "the session's speech (the tiny speech decoder, 24 kHz): artifacts/out/speech.wav"
echo
"$ellsa" look --model weights/tiny --image tests/goldens/vision/images/libero_256.png \
  --image tests/goldens/vision/images/photo_200.jpg --output artifacts/out/look.json --reconstruct artifacts/out/seen.png
echo "two frames as VQ codes: artifacts/out/look.json; what the model sees: artifacts/out/seen-0.png, seen-1.png"
echo
"$ellsa" duplex --model weights/tiny \
  --input tests/goldens/vision/act_frames.session.json --output artifacts/out/act_frames.jsonl
echo
wav=../shared/data/audio/cosyvoice_prompt_emo_10004_b_0.wav
if [ -f "$wav" ]; then
  "$ellsa" listen --model weights/tiny --audio "$wav" --output artifacts/out/listen.json
  echo "the wav as audio embeddings: artifacts/out/listen.json"
  "$ellsa" duplex --model weights/tiny --audio "$wav" --output artifacts/out/heard.jsonl
else
  echo "skipped listening: $wav not found (the shared data folder beside the repository)"
fi
