#!/usr/bin/env bash
# Builds the ellsa CLI and runs the main job on the committed tiny model: a 14-block speech
# dialogue session through the duplex engine (timeline in artifacts/out/timeline.jsonl), after
# one acting block decoded exactly as the reference's generate does.
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
  --input tests/goldens/sessions/speech_14.session.json --output artifacts/out/timeline.jsonl
