"""What perf/*/side_by_side.py share: PyTorch on OpenBLAS, the engine's `ellsa-perf` process and its RESULT lines.

Each script puts perf/ on its path and imports this module by name; the measuring and printing stay in the scripts.
"""

import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PERF_DLL = os.path.join(ROOT, "perf", "Ellsa.Perf", "bin", "Release", "net10.0", "Ellsa.Perf.dll")
OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread"


def with_openblas(threads, reexec):
    """Re-runs the calling script with OpenBLAS in front of the reference BLAS (the loader reads the path once, at start).

    `reexec` names the environment variable that marks the second run, one per script."""
    if os.environ.get(reexec) == "1":
        return
    if not os.path.exists(os.path.join(OPENBLAS, "libblas.so.3")):
        sys.exit(f"error: {OPENBLAS}/libblas.so.3 not found: apt-get install libopenblas0-pthread")
    env = dict(os.environ)
    env[reexec] = "1"
    env["LD_LIBRARY_PATH"] = OPENBLAS + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    env["OMP_NUM_THREADS"] = str(threads)
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def blas_in_use():
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line}
    return ", ".join(sorted(os.path.basename(l) for l in libs)) or "none"


def run_perf(dll, arguments):
    """One `dotnet DLL ARGUMENTS…` process (an ellsa-perf mode): its `RESULT name value` lines as a dict, and its stdout."""
    out = subprocess.run(["dotnet", dll] + arguments, check=True, capture_output=True, text=True).stdout
    return {l.split()[1]: float(l.split()[2]) for l in out.splitlines() if l.startswith("RESULT ")}, out


def report_lines(out):
    """The engine's stdout without its RESULT lines, for the reader."""
    return "\n".join(l for l in out.strip().splitlines() if not l.startswith("RESULT"))
