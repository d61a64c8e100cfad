#!/usr/bin/env bash
# Builds the GPU package: ellsa-perf-gpu published self-contained for linux-x64 (untrimmed: ILGPU
# needs reflection and Reflection.Emit), the tiny model and the goldens the self-tests use, and the
# PyTorch baseline, packed as .device-pack/ellsa-gpu.tar.xz (git-ignored). Then, on the GPU
# machine, through the device tool:
#
#   run(command="bash perf/gpu/device.sh all", carry=[".device-pack"], timeout_s=600)
#
# device.sh unpacks the package, runs the PyTorch baseline (ceilings and eager timings), the CUDA
# self-tests (the xunit CUDA checks) and the benchmarks, and leaves results.md (the table for
# perf/RESULTS.md) and its companions in $OUT. To split the work over two calls:
#   bash perf/gpu/device.sh selftest        then        bash perf/gpu/device.sh bench
#
# usage: perf/gpu/run.sh            (from anywhere inside the repository)
set -euo pipefail
root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
cd "$root"
stage="$root/.device-pack/stage"
rm -rf "$stage"
mkdir -p "$stage"

dotnet publish perf/Ellsa.Perf.Gpu/Ellsa.Perf.Gpu.csproj -c Release -r linux-x64 --self-contained true \
  -p:PublishTrimmed=false -p:PublishSingleFile=false -o "$stage/ellsa-perf-gpu" -v quiet

# The self-tests look for tests/goldens and weights above the program (GoldenFiles.Root).
mkdir -p "$stage/tests/goldens" "$stage/weights"
cp -r tests/goldens/tiny "$stage/tests/goldens/"
mkdir -p "$stage/tests/goldens/variants"
for variant in merged_f32 d96_mixed; do
  cp -r "tests/goldens/variants/$variant" "$stage/tests/goldens/variants/"
done
cp -r weights/tiny "$stage/weights/"
# speech-out --size small reads the goldens' small decoder; --size real and vision --size real redraw
# the release weights from the manifests (perf/gpu/make_manifest.py).
mkdir -p "$stage/tests/goldens/speech_out/small" "$stage/perf/gpu"
cp tests/goldens/speech_out/small/{ellsa.json,speech_decoder.safetensors,speech_prompt.safetensors} "$stage/tests/goldens/speech_out/small/"
cp -r perf/gpu/manifests "$stage/perf/gpu/"
cp perf/gpu/torch_baseline.py "$stage/"
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)'), built $(date -u +%Y-%m-%dT%H:%MZ)" > "$stage/BUILD.txt"

tar -cJf "$root/.device-pack/ellsa-gpu.tar.xz" -C "$stage" .
rm -rf "$stage"
ls -l "$root/.device-pack/ellsa-gpu.tar.xz"
echo 'next, on the GPU machine: run(command="bash perf/gpu/device.sh all", carry=[".device-pack"], timeout_s=600)'
