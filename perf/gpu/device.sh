#!/usr/bin/env bash
# Runs on the GPU machine (through the device `run` tool), from the repository root, with
# .device-pack/ carried (built here by perf/gpu/run.sh). No .NET is needed there: the package
# is a self-contained linux-x64 build.
#
#   bash perf/gpu/device.sh [all|selftest|bench|speech|speech-out|vision] [extra ellsa-perf-gpu options]
#
# Writes to $OUT: results.md, results.json, speech.md, speech.json, speech_out.md, speech_out.json,
# vision.md, vision.json, selftest.txt, log.txt,
# torch.json, ptxas.txt, ptx.tar.gz, machine.txt.
set -uo pipefail
mode="${1:-all}"
shift || true
out="${OUT:-/tmp/ellsa-gpu-out}"
work=/tmp/ellsa-gpu
mkdir -p "$out" "$work"
rm -rf "$work"/*

tar -xJf .device-pack/ellsa-gpu.tar.xz -C "$work" || { echo "cannot unpack .device-pack/ellsa-gpu.tar.xz (run perf/gpu/run.sh first)"; exit 2; }
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv 2>&1
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" 2>&1
  (command -v ptxas && ptxas --version) 2>&1 | tail -2
  cat "$work/BUILD.txt" 2>/dev/null
} > "$out/machine.txt"
cat "$out/machine.txt"

export PYTHONUNBUFFERED=1
if [ "$mode" = "all" ] || [ "$mode" = "bench" ]; then
  echo "== PyTorch eager baseline and ceilings"
  python3 "$work/torch_baseline.py" "$out/torch.json" "$@" 2>&1 | tail -20
fi

echo "== ellsa-perf-gpu $mode"
torch_arg=()
[ -f "$out/torch.json" ] && torch_arg=(--torch "$out/torch.json")
(cd "$work" && ./ellsa-perf-gpu/ellsa-perf-gpu "$mode" --device cuda --out "$work/out" "${torch_arg[@]}" "$@")
status=$?

for f in results.md results.json speech.md speech.json speech_out.md speech_out.json vision.md vision.json selftest.txt log.txt; do
  [ -f "$work/out/$f" ] && cp "$work/out/$f" "$out/"
done
if [ -d "$work/out/ptx" ]; then
  # Registers, spills and stack frame of every kernel as the device's ptxas builds it for sm_90.
  if command -v ptxas > /dev/null; then
    for ptx in "$work"/out/ptx/*.ptx; do
      echo "== $(basename "$ptx")"
      ptxas -arch=sm_90 -v -o /dev/null "$ptx" 2>&1 | grep -E "registers|spill|stack|error" || true
    done > "$out/ptxas.txt"
  fi
  tar -czf "$out/ptx.tar.gz" -C "$work/out" ptx
fi
[ -f "$out/results.md" ] && cat "$out/results.md"
[ -f "$out/speech.md" ] && cat "$out/speech.md"
[ -f "$out/speech_out.md" ] && cat "$out/speech_out.md"
[ -f "$out/vision.md" ] && cat "$out/vision.md"
[ -f "$out/selftest.txt" ] && tail -3 "$out/selftest.txt"
exit $status
