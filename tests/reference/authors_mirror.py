"""Extract files of a mirrored upstream repository into a temporary package tree, at run time.

The references run the authors' (and lhotse's) own modules, but their code is never committed here:
each run reads the files from a local git mirror with `git show REV:PATH`, writes them under a fresh
temporary directory (removed at exit) and puts that directory on sys.path.
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile


def git(mirror, *args):
    return subprocess.run(["git", "--git-dir", mirror, *args], check=True, capture_output=True).stdout


def resolve(mirror, default, env, rev, what):
    """The mirror directory (argument, else $env, else default), checked to hold `rev`; exits with one
    line naming the mirror otherwise."""
    mirror = mirror or os.environ.get(env) or default
    if not os.path.isdir(mirror):
        sys.exit(f"error: the mirror of {what} at {mirror} is absent; set ${env} to its git directory")
    try:
        git(mirror, "rev-parse", "--verify", f"{rev}^{{commit}}")
    except subprocess.CalledProcessError as e:
        sys.exit(f"error: {mirror} is not a git directory holding {rev} of {what}: {e.stderr.decode().strip()}")
    return mirror


def commit_of(mirror, rev):
    return git(mirror, "rev-parse", f"{rev}^{{commit}}").decode().strip()


def extract(mirror, rev, files, shims=None, prefix="authors-"):
    """Write `files` ({path in repo: path in the tree}) from mirror@rev and `shims` ({path in the tree:
    text}) into a new temporary tree, put it first on sys.path and return its directory."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, tmp, True)
    for src, dst in files.items():
        try:
            text = git(mirror, "show", f"{rev}:{src}")
        except subprocess.CalledProcessError as e:
            sys.exit(f"error: cannot read {src} from {mirror}@{rev}: {e.stderr.decode().strip()}")
        _write(os.path.join(tmp, dst), text)
    for dst, text in (shims or {}).items():
        _write(os.path.join(tmp, dst), text.encode())
    sys.path.insert(0, tmp)
    return tmp


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
