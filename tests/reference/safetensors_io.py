"""Minimal safetensors reader/writer (numpy only), independent of the `safetensors` package.

Format (https://github.com/huggingface/safetensors): 8-byte little-endian u64 header length N,
then N bytes of UTF-8 JSON {name: {"dtype", "shape", "data_offsets": [begin, end]},
"__metadata__": {str: str}}, then the tensor bytes (offsets relative to the end of the header),
row-major, little-endian.

BF16 has no numpy dtype: it is carried as uint16 bits. Reading widens bits -> fp32 exactly
(bits << 16); writing rounds fp32 -> bf16 with round-to-nearest-even, which is what
torch's `.to(torch.bfloat16)` does, so checkpoints written here match what a PyTorch
export of the same fp32 values would contain.

F64 is supported in addition to BF16/F16/F32 only so the self-check can store merged
LoRA weights without rounding; I32/I64 are supported for golden metadata tensors, U8 for
decoded image pixels in the vision goldens.
"""

import json
import os
import struct

import numpy as np

# safetensors dtype name -> (numpy storage dtype, bytes per element)
_STORAGE = {
    "BF16": np.dtype("<u2"),
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "I32": np.dtype("<i4"),
    "I64": np.dtype("<i8"),
    "U8": np.dtype("u1"),
}

# Short names accepted on command lines.
DTYPE_ALIASES = {"bf16": "BF16", "f16": "F16", "fp16": "F16", "f32": "F32", "fp32": "F32",
                 "f64": "F64", "fp64": "F64", "i32": "I32", "i64": "I64", "u8": "U8"}


def canonical_dtype(name):
    key = name.lower()
    if key in DTYPE_ALIASES:
        return DTYPE_ALIASES[key]
    if name.upper() in _STORAGE:
        return name.upper()
    raise ValueError(f"unsupported dtype {name!r}")


# ---------------------------------------------------------------- bf16 helpers

def bf16_bits_to_f32(bits):
    """uint16 bf16 bit patterns -> float32 values (exact)."""
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


def f32_to_bf16_bits(x):
    """float32 values -> uint16 bf16 bit patterns, round-to-nearest-even; NaN stays NaN."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    # Adding 0x7FFF plus the lowest kept bit rounds half-way cases to the even neighbour.
    rounded = ((u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)).astype(np.uint16)
    nan = np.isnan(x.astype(np.float32))
    if nan.any():
        rounded[nan] = np.uint16(0x7FC0)
    return rounded


def round_to_dtype(x, dtype):
    """Return x (any float array) as float64 holding exactly the values `dtype` storage would keep.

    Used by the checkpoint generator so that in-memory weights equal the stored ones.
    """
    dtype = canonical_dtype(dtype)
    x = np.asarray(x)
    if dtype == "BF16":
        return bf16_bits_to_f32(f32_to_bf16_bits(x.astype(np.float32))).astype(np.float64)
    if dtype == "F16":
        return x.astype(np.float16).astype(np.float64)
    if dtype == "F32":
        return x.astype(np.float32).astype(np.float64)
    if dtype == "F64":
        return x.astype(np.float64)
    raise ValueError(f"round_to_dtype: not a float dtype: {dtype}")


def _encode(array, dtype):
    dtype = canonical_dtype(dtype)
    a = np.asarray(array)
    if dtype == "BF16":
        data = f32_to_bf16_bits(a.astype(np.float32))
    else:
        data = a.astype(_STORAGE[dtype])
    return np.ascontiguousarray(data).tobytes(order="C")


def _decode(buf, dtype, shape):
    storage = _STORAGE[dtype]
    count = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    raw = np.frombuffer(buf, dtype=storage, count=count)
    if dtype == "BF16":
        raw = bf16_bits_to_f32(raw)
    return raw.reshape(shape)


# ---------------------------------------------------------------- single file

def read_file(path):
    """Read one .safetensors file -> (dict name -> numpy array, dtype dict name -> str, metadata dict).

    BF16 tensors come back as float32 (exact); other dtypes keep their numpy dtype.
    """
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short for a safetensors header")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError(f"{path}: header length {n} exceeds file size {len(blob)}")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    base = 8 + n
    meta = header.pop("__metadata__", {}) or {}
    tensors, dtypes = {}, {}
    for name, info in header.items():
        dtype = info["dtype"]
        if dtype not in _STORAGE:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dtype}")
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        need = (int(np.prod(shape, dtype=np.int64)) if shape else 1) * _STORAGE[dtype].itemsize
        if end - begin != need or base + end > len(blob):
            raise ValueError(f"{path}: tensor {name}: bad data_offsets {begin},{end} for {dtype}{list(shape)}")
        tensors[name] = _decode(blob[base + begin:base + end], dtype, shape)
        dtypes[name] = dtype
    return tensors, dtypes, meta


def iterate_file(path):
    """(name, array, dtype) for each tensor of one .safetensors file, in file order, read through a
    memory map: a file of gigabytes is never held whole. BF16 arrays come back as float32 (exact)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    header.pop("__metadata__", None)
    blob = np.memmap(path, dtype=np.uint8, mode="r")
    base = 8 + n
    for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        dtype = info["dtype"]
        if dtype not in _STORAGE:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dtype}")
        begin, end = info["data_offsets"]
        yield name, _decode(blob[base + begin:base + end], dtype, tuple(info["shape"])), dtype


def write_file(path, tensors, dtypes=None, metadata=None, default_dtype="F32"):
    """Write tensors (name -> array) to one .safetensors file.

    dtypes: name -> dtype name (default `default_dtype`). Tensors are laid out in the given
    order, contiguous, with the header padded with spaces to a multiple of 8 bytes.
    """
    dtypes = dtypes or {}
    header, offset = {}, 0
    # The header first, from shapes alone; then each tensor encoded as it is written, so a file of
    # gigabytes needs one tensor's bytes at a time (`tensors` may map to lazily produced arrays).
    for name, arr in tensors.items():
        dt = canonical_dtype(dtypes.get(name, default_dtype))
        shape = [int(s) for s in np.shape(arr)]
        size = (int(np.prod(shape, dtype=np.int64)) if shape else 1) * _STORAGE[dt].itemsize
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    if metadata:
        header = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}, **header}
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for name, arr in tensors.items():
            data = _encode(arr, header[name]["dtype"])
            begin, end = header[name]["data_offsets"]
            if len(data) != end - begin:
                raise ValueError(f"{path}: tensor {name}: {len(data)} bytes encoded, {end - begin} expected")
            f.write(data)


# ---------------------------------------------------------------- model directories

INDEX_NAME = "model.safetensors.index.json"
SINGLE_NAME = "model.safetensors"


def read_model_dir(model_dir):
    """Read all tensors of a model directory: `model.safetensors.index.json` + shards if the index
    exists, else `model.safetensors`. Returns (tensors, dtypes, per-file metadata list)."""
    index_path = os.path.join(model_dir, INDEX_NAME)
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
        if "weight_map" not in index:
            raise ValueError(f"{index_path}: no weight_map")
        weight_map = index["weight_map"]
        tensors, dtypes, metas = {}, {}, []
        for shard in sorted(set(weight_map.values())):
            t, d, m = read_file(os.path.join(model_dir, shard))
            metas.append(m)
            for name in t:
                if weight_map.get(name) != shard:
                    raise ValueError(f"{shard}: tensor {name} not mapped to this shard in {INDEX_NAME}")
            tensors.update(t)
            dtypes.update(d)
        missing = sorted(set(weight_map) - set(tensors))
        if missing:
            raise ValueError(f"{index_path}: tensors listed but absent from their shard: {missing[:5]}")
        return tensors, dtypes, metas
    single = os.path.join(model_dir, SINGLE_NAME)
    if not os.path.exists(single):
        raise FileNotFoundError(f"{model_dir}: neither {INDEX_NAME} nor {SINGLE_NAME}")
    t, d, m = read_file(single)
    return t, d, [m]


def write_model_dir(model_dir, tensors, dtypes, shards=1, metadata=None):
    """Write tensors as `model.safetensors` (shards == 1) or as HF-style shards
    `model-0000k-of-0000N.safetensors` + `model.safetensors.index.json` (shards > 1).

    Tensors keep their given order; each shard holds about 1/N of the bytes and at least one tensor.
    """
    os.makedirs(model_dir, exist_ok=True)
    for stale in [INDEX_NAME, SINGLE_NAME] + [f for f in os.listdir(model_dir)
                                              if f.startswith("model-") and f.endswith(".safetensors")]:
        p = os.path.join(model_dir, stale)
        if os.path.exists(p):
            os.remove(p)
    meta = {"format": "pt"}
    meta.update(metadata or {})
    if shards <= 1:
        write_file(os.path.join(model_dir, SINGLE_NAME), tensors, dtypes, meta)
        return [SINGLE_NAME]
    names = list(tensors)
    if shards > len(names):
        raise ValueError(f"cannot cut {len(names)} tensors into {shards} shards")
    sizes = [np.size(tensors[n]) * _STORAGE[canonical_dtype(dtypes[n])].itemsize for n in names]
    total = sum(sizes)
    # Assign each tensor to the shard holding the middle of its byte range; this keeps the
    # order and gives each shard about total/N bytes. Tiny checkpoints can leave a shard empty
    # (one huge tensor); then fall back to cutting by tensor count.
    assign, acc = [], 0
    for s in sizes:
        assign.append(min(shards - 1, int((acc + s / 2) * shards // max(total, 1))))
        acc += s
    if len(set(assign)) != shards:
        assign = [i * shards // len(names) for i in range(len(names))]
    groups = [[n for n, a in zip(names, assign) if a == k] for k in range(shards)]
    assert len(groups) == shards, (len(groups), shards)
    weight_map, files = {}, []
    for k, group in enumerate(groups, start=1):
        fname = f"model-{k:05d}-of-{shards:05d}.safetensors"
        write_file(os.path.join(model_dir, fname), {n: tensors[n] for n in group}, dtypes, meta)
        files.append(fname)
        for n in group:
            weight_map[n] = fname
    with open(os.path.join(model_dir, INDEX_NAME), "w") as f:
        json.dump({"metadata": {"total_size": int(total)}, "weight_map": weight_map}, f, indent=2)
        f.write("\n")
    return files + [INDEX_NAME]
