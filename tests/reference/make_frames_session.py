"""Writes tests/goldens/vision/act_frames.session.json: an acting session for `ellsa duplex` whose
camera frames are image files (the vision goldens' synthetic photographs), so run-tiny.sh and the
tests exercise the session's image encoder. The audio embeddings are the first blocks of
tests/goldens/sessions/act_12.session.json (the tiny model's width); frame names are relative to
the session file. Run from the repository root: python3 tests/reference/make_frames_session.py
"""

import json
import os

BLOCKS = 6
# Agent view, wrist view per block: every image kind (PNG, JPEG, grayscale, RGBA, other sizes).
FRAMES = [
    ("images/libero_256.png", "images/photo_200.jpg"),
    ("images/landscape_320x240.jpg", "images/gray_150x180.jpg"),
    ("images/rgba_256.png", "images/portrait_97x211.png"),
]


def main():
    source = json.load(open("tests/goldens/sessions/act_12.session.json"))
    blocks = []
    for i, block in enumerate(source["blocks"][:BLOCKS]):
        blocks.append({"audio_embeddings": block["audio_embeddings"], "images": list(FRAMES[i % len(FRAMES)])})
    target = "tests/goldens/vision/act_frames.session.json"
    with open(target, "w") as f:
        json.dump({"mode": "act", "blocks": blocks}, f)
    print(f"{target}: {len(blocks)} blocks, {os.path.getsize(target)} bytes")


if __name__ == "__main__":
    main()
