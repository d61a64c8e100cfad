#!/usr/bin/python3
"""The vision tokenizer's encoder at the released size, the engine beside the authors' PyTorch, in
one run, interleaved, on the same random weights and the same cores.

  /usr/bin/python3 perf/vision/side_by_side.py [--rounds 3] [--threads 2] [--work DIR] [--full] [--before DLL]

1. Writes a vision_tokenizer/ at the release geometry (BAAI/Emu3-VisionTokenizer: ch 256,
   ch_mult [1,2,2,4], 2 res blocks, attention at level 3, codebook 32768x4; F32; random values by
   tests/reference/vision_reference.random_state, codebook uniform) into --work (default
   /tmp/ellsa-vision-release), once.
2. Each round: the authors' Emu3VisionVQModel (their modules from the SALMONN mirror, fp32,
   torch.set_num_threads(threads)) runs its 2-D encoder on one 200x200 frame - their encoder's
   forward up to conv_out, which their encode() runs once per repeated frame - and, with --full, their
   whole encode() of a still frame (4 repeated frames); then the engine (`ellsa-perf vision-cpu`,
   one frame after a warm-up, the 2-D encoder once plus the time convs and the quantiser), and with
   --before another build's Ellsa.Perf.dll the same way (an older commit built elsewhere: before
   and after measured in the same rounds).
3. Prints each round and the medians; paste them into perf/RESULTS.md.
"""

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
sys.path.append(os.path.join(ROOT, "perf"))
import side_by_side_common as common  # noqa: E402
import vision_reference as vr  # noqa: E402

RELEASE = {"ch": 256, "ch_mult": [1, 2, 2, 4], "num_res_blocks": 2, "attn_resolutions": [3], "z_channels": 4,
           "embed_dim": 4, "codebook_size": 32768, "temporal_downsample_factor": 4, "double_z": False, "dropout": 0.0}


def write_release(authors, folder):
    if os.path.exists(os.path.join(folder, "model.safetensors")):
        return
    cfg = vr.config_json(authors, RELEASE)
    model = vr.build_model(authors, cfg)
    state = vr.random_state(model, seed=7)
    rng = np.random.default_rng(8)
    state["quantize.embedding.weight"] = rng.uniform(-1, 1, state["quantize.embedding.weight"].shape)
    dtypes = {n: ("I64" if n.endswith("num_batches_tracked") else "F32") for n in state}
    vr.write_tokenizer_dir(folder, cfg, vr.preprocessor_json(authors), state, dtypes)


def encoder_2d(model, x):
    """Their Emu3VisionVQEncoder.forward (VQ:556-583) up to conv_out, for one frame."""
    enc = model.encoder
    h = enc.conv_in(x)
    for i_level in range(enc.num_resolutions):
        for i_block in range(enc.num_res_blocks):
            h = enc.down[i_level].block[i_block](h)
            if len(enc.down[i_level].attn) > 0:
                h = enc.down[i_level].attn[i_block](h)
        if i_level != enc.num_resolutions - 1:
            h = enc.down[i_level].downsample(h)
    h = enc.mid.block_1(h)
    h = enc.mid.attn_1(h)
    h = enc.mid.block_2(h)
    h = enc.norm_out(h)
    h = enc.act(h)
    return enc.conv_out(h)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default="/tmp/ellsa-vision-release")
    parser.add_argument("--full", action="store_true", help="also time their whole encode() (4 repeated frames)")
    parser.add_argument("--mirror", default=None)
    parser.add_argument("--before", default=None, help="another build's Ellsa.Perf.dll, timed in each round too")
    args = parser.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    authors = vr.load_authors(args.mirror)
    folder = os.path.join(args.work, "vision_tokenizer")
    write_release(authors, folder)
    model = vr.load_tokenizer_dir(authors, folder)[0].float().eval()
    x = torch.from_numpy(np.random.default_rng(1).uniform(-1, 1, (1, 3, 200, 200)).astype(np.float32))
    with torch.no_grad():
        encoder_2d(model, x)  # warm-up (oneDNN primitive creation)
        rows = []
        for r in range(args.rounds):
            t = time.perf_counter()
            encoder_2d(model, x)
            torch_2d = time.perf_counter() - t
            torch_full = float("nan")
            if args.full:
                t = time.perf_counter()
                model.encode(x)
                torch_full = time.perf_counter() - t
            engine, out = run_engine(common.PERF_DLL, folder, args.threads)
            before = run_engine(args.before, folder, args.threads)[0] if args.before else float("nan")
            rows.append((torch_2d, torch_full, engine, before))
            print(f"round {r + 1}: PyTorch 2-D encoder {torch_2d:.2f} s, PyTorch encode() {torch_full:.2f} s, engine frame {engine:.2f} s"
                  + (f", engine before {before:.2f} s" if args.before else ""), flush=True)
        print(out.strip().splitlines()[0])
    med = np.median(np.array(rows), axis=0)
    print(f"median over {args.rounds} rounds, {args.threads} threads: PyTorch 2-D encoder {med[0]:.2f} s "
          f"({med[0] * args.threads:.1f} CPU-s), PyTorch encode() {med[1]:.2f} s, engine frame {med[2]:.2f} s; "
          f"engine / PyTorch 2-D = {med[2] / med[0]:.2f}"
          + (f"; engine before {med[3]:.2f} s ({med[3] / med[0]:.2f} of PyTorch 2-D)" if args.before else ""))


def run_engine(dll, folder, threads):
    """One `ellsa-perf vision-cpu` process: its seconds per frame and its output."""
    results, out = common.run_perf(dll, ["vision-cpu", "--tokenizer", folder, "--frames", "1", "--threads", str(threads)])
    return results["engine_s_per_frame"], out


if __name__ == "__main__":
    main()
