#!/usr/bin/python3
"""A model directory's weights as a manifest the GPU package redraws them from: every .safetensors file's
tensors by name, dtype and shape with their mean, standard deviation, minimum and maximum, and every .json
file as it is. ellsa-perf-gpu (Manifests.cs) writes a directory with the same names, shapes and dtypes and
values drawn uniformly with each tensor's mean and deviation, clamped to its range, so the release-size
benchmarks need neither Python nor the authors' code on the GPU machine, and the package stays small.

  /usr/bin/python3 perf/gpu/make_manifest.py MODEL_DIR OUT.json [FILE ...]      (default: every file)

The release directories are what perf/speech_out/side_by_side.py (/tmp/ellsa-speech-out-release) and
perf/vision/side_by_side.py (/tmp/ellsa-vision-release/vision_tokenizer) write; perf/gpu/manifests/
holds their manifests.
"""

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference"))
import safetensors_io  # noqa: E402


def tensors(path):
    out = []
    for name, array, dtype in safetensors_io.iterate_file(path):
        a = np.asarray(array, dtype=np.float64)
        out.append({"name": name, "dtype": dtype, "shape": list(np.shape(array)),
                    "mean": float(a.mean()) if a.size else 0.0, "std": float(a.std()) if a.size else 0.0,
                    "min": float(a.min()) if a.size else 0.0, "max": float(a.max()) if a.size else 0.0})
    return sorted(out, key=lambda t: t["name"])


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    folder, target, only = sys.argv[1], sys.argv[2], sys.argv[3:]
    files = {}
    for name in sorted(only or os.listdir(folder)):
        path = os.path.join(folder, name)
        if name.endswith(".safetensors"):
            files[name] = tensors(path)
        elif name.endswith(".json"):
            with open(path) as f:
                files[name] = json.load(f)
    if not any(n.endswith(".safetensors") for n in files):
        sys.exit(f"error: {folder}: no .safetensors file")
    # One tensor per line: small, and a diff shows what changed.
    lines = []
    for name, content in files.items():
        if name.endswith(".safetensors"):
            body = ",\n".join(json.dumps(t, separators=(",", ":")) for t in content)
            lines.append(f"{json.dumps(name)}: [\n{body}\n]")
        else:
            lines.append(f"{json.dumps(name)}: {json.dumps(content, separators=(',', ':'))}")
    with open(target, "w") as f:
        f.write('{"generator": "perf/gpu/make_manifest.py", "files": {\n' + ",\n".join(lines) + "\n}}\n")
    count = sum(len(v) for n, v in files.items() if n.endswith(".safetensors"))
    print(f"{target}: {count} tensors from {folder}")


if __name__ == "__main__":
    main()
