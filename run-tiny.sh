#!/usr/bin/env bash
# Builds the ellsa CLI and runs the main job on the committed tiny model: one speech-dialogue
# block decoded exactly as the reference does (text, then actions).
set -euo pipefail
cd "$(dirname "$0")"
dotnet publish src/Ellsa.Cli -c Release -o artifacts/ellsa --nologo -v quiet
mkdir -p artifacts/out
./artifacts/ellsa/ellsa inspect --model weights/tiny | tail -n 4
./artifacts/ellsa/ellsa generate --model weights/tiny \
  --input tests/goldens/tiny/speech_block.seq.json --output artifacts/out/speech_block.json --max-text 9
echo "block output (artifacts/out/speech_block.json):"
cat artifacts/out/speech_block.json
echo
