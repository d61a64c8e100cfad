using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu;

namespace Ellsa.Tests.Gpu.Checks;

/// <summary>
/// Every device operation of the ILGPU backend against the CPU backend on fresh random shapes:
/// odd sizes, K not a multiple of 8, bf16 and fp32 row parts mixed, bias and residual add on and
/// off, misaligned column slices, GQA groups 1, 3, 4 and 5, rows in scrambled position order.
/// The same list runs in xunit (CPU simulator, and CUDA when present) and in the GPU self-test
/// program, so what passes here is what runs on the device machine.
/// </summary>
public static class KernelChecks
{
    public static IReadOnlyList<GpuCheck> All { get; } =
    [
        new("matmul.decode", (create, seed) => MatMul(create, seed, minRows: 1, maxRows: 4, options: IlgpuOptions.Default, tolerance: 1e-5)),
        new("matmul.prefill", (create, seed) => MatMul(create, seed, minRows: 5, maxRows: 70, options: IlgpuOptions.Default, tolerance: 1e-4)),
        new("matmul.tensor-cores.exact", (create, seed) => TensorCores(create, seed, new IlgpuOptions { EmulateTensorCores = true }, 1e-4)),
        new("matmul.tensor-cores.fast", (create, seed) => TensorCores(create, seed,
            new IlgpuOptions { EmulateTensorCores = true, Precision = GemmPrecision.Fast }, 2e-2)),
        new("gate-up-swiglu", GateUpSwiGlu),
        new("rmsnorm.fusion", RmsNormFusion),
        new("embed", Embed),
        new("rope.kv-write.attention.decode", (create, seed) => RopeKvAttention(create, seed, minRows: 1, maxRows: IlgpuBackend.DecodeAttentionRows)),
        new("rope.kv-write.attention.prefill", (create, seed) => RopeKvAttention(create, seed, minRows: IlgpuBackend.DecodeAttentionRows + 1, maxRows: 40)),
        new("attention.tensor-cores.exact", (create, seed) => RopeKvAttention(create, seed, IlgpuBackend.DecodeAttentionRows + 1, 40,
            new IlgpuOptions { EmulateTensorCores = true }, headDim: 128, tolerance: 1e-4)),
        new("attention.tensor-cores.fast", (create, seed) => RopeKvAttention(create, seed, IlgpuBackend.DecodeAttentionRows + 1, 40,
            new IlgpuOptions { EmulateTensorCores = true, Precision = GemmPrecision.Fast }, headDim: 128, tolerance: 2e-2)),
        new("attention.bf16-kv-cache", (create, seed) => RopeKvAttention(create, seed, 1, 40,
            new IlgpuOptions { Bf16KvCache = true }, tolerance: 1e-2)),
        new("argmax", ArgMax),
        new("swiglu.upload-download", SwiGluAndSlices),
        new("transfers.moving-gc", TransfersWhileTheGcMovesArrays),
        .. Q8Checks.All,
        .. OpChecks.All,
        .. SpeechEncoderChecks.All,
    ];

    public static GpuCheck Get(string name) => All.Single(c => c.Name == name);

    /// <summary>
    /// The tensor-core GEMM (its C# model on the simulator): once with both tile halves in use
    /// (more than 64 rows and columns: the second 64-row copy duty and warp rows), once small.
    /// </summary>
    private static void TensorCores(BackendFactory create, int seed, IlgpuOptions options, double tolerance)
    {
        MatMul(create, seed, 65, 150, options, tolerance, small: true, minColumns: 65);
        MatMul(create, seed + 1, 5, 64, options, tolerance, small: true);
    }

    private static void MatMul(BackendFactory create, int seed, int minRows, int maxRows, IlgpuOptions options, double tolerance,
        bool small = false, int minColumns = 1)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(options), data);
        int t = data.Next(minRows, maxRows);
        int k = small ? data.Next(1, 80) : data.Next(1, 300);
        int n = small ? data.Next(minColumns, 160) : data.Next(1, 260);
        bool bias = data.Chance();
        bool accumulate = data.Chance();
        // A column offset of 1–3 breaks 16-byte alignment of the input rows half the time.
        int inOffset = data.Chance() ? data.Next(0, 3) : 0;
        int outOffset = data.Chance() ? data.Next(0, 3) : 0;
        var weights = pair.Matrix(data.Matrix("w", n, k, bf16First: small));
        var biasVector = bias ? pair.Vector(data.Values(n)) : default;
        var x = pair.Tensor(t, k + inOffset + data.Next(0, 2));
        var y = pair.Tensor(t, n + outOffset + data.Next(0, 2));
        var xg = x.Gpu.All.Columns(inOffset, k);
        var xc = x.Cpu.All.Columns(inOffset, k);
        var yg = y.Gpu.All.Columns(outOffset, n);
        var yc = y.Cpu.All.Columns(outOffset, n);
        if (!accumulate)
            pair.Poison(yg);
        pair.Gpu.MatMul(weights.Gpu, xg, yg, biasVector.Gpu, accumulate);
        pair.Cpu.MatMul(weights.Cpu, xc, yc, biasVector.Cpu, accumulate);
        pair.Compare($"MatMul {t}×{k} · ({n}×{k})ᵀ, bias {bias}, accumulate {accumulate}, offsets {inOffset}/{outOffset}", yg, yc, tolerance);
    }

    private static void GateUpSwiGlu(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        foreach (int t in new[] { data.Next(1, 4), data.Next(5, 40) })
        {
            int k = data.Next(1, 200);
            int ff = data.Next(1, 150);
            var gateUp = pair.Matrix(data.Matrix("gate_up", 2 * ff, k, maxParts: 2));
            var x = pair.Tensor(t, k);
            var y = pair.Tensor(t, ff);
            pair.Poison(y.Gpu.All);
            pair.Gpu.GateUpSwiGlu(gateUp.Gpu, x.Gpu.All, y.Gpu.All);
            pair.Cpu.GateUpSwiGlu(gateUp.Cpu, x.Cpu.All, y.Cpu.All);
            pair.Compare($"GateUpSwiGlu {t}×{k}, ff {ff}", y.Gpu.All, y.Cpu.All, 1e-4);
        }
    }

    /// <summary>
    /// RMSNorm followed by its consumer (fused on the GPU), by a projection that writes back into the
    /// norm's source (must not fuse), and by a download (the held-back norm must run first).
    /// </summary>
    private static void RmsNormFusion(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        foreach (int t in new[] { data.Next(1, 4), data.Next(5, 30) })
        {
            int k = data.Next(2, 200);
            int n = data.Next(1, 120);
            float eps = data.Chance() ? 1e-5f : 1e-6f;
            var gamma = pair.Vector(data.Values(k, 0.5f, 1f));
            var w = pair.Matrix(data.Matrix("w", n, k));
            var square = pair.Matrix(data.Matrix("square", k, k));
            var x = pair.Tensor(t, k);
            var normed = pair.Tensor(t, k);
            var y = pair.Tensor(t, n);
            pair.Poison(normed.Gpu.All);
            pair.Poison(y.Gpu.All);

            pair.Gpu.RmsNorm(x.Gpu.All, gamma.Gpu, eps, normed.Gpu.All);
            pair.Gpu.MatMul(w.Gpu, normed.Gpu.All, y.Gpu.All, null, false);
            pair.Cpu.RmsNorm(x.Cpu.All, gamma.Cpu, eps, normed.Cpu.All);
            pair.Cpu.MatMul(w.Cpu, normed.Cpu.All, y.Cpu.All, null, false);
            pair.Compare($"RMSNorm→MatMul {t}×{k}→{n}: output", y.Gpu.All, y.Cpu.All, 1e-4);
            pair.Compare($"RMSNorm→MatMul {t}×{k}→{n}: normalised rows", normed.Gpu.All, normed.Cpu.All, 1e-5);

            pair.Gpu.RmsNorm(x.Gpu.All, gamma.Gpu, eps, normed.Gpu.All);
            pair.Gpu.MatMul(square.Gpu, normed.Gpu.All, x.Gpu.All, null, accumulate: true);
            pair.Cpu.RmsNorm(x.Cpu.All, gamma.Cpu, eps, normed.Cpu.All);
            pair.Cpu.MatMul(square.Cpu, normed.Cpu.All, x.Cpu.All, null, accumulate: true);
            pair.Compare($"RMSNorm→MatMul into its own source {t}×{k}", x.Gpu.All, x.Cpu.All, 1e-4);

            pair.Poison(normed.Gpu.All);
            pair.Gpu.RmsNorm(x.Gpu.All, gamma.Gpu, eps, normed.Gpu.All);
            pair.Cpu.RmsNorm(x.Cpu.All, gamma.Cpu, eps, normed.Cpu.All);
            pair.Compare($"RMSNorm then download {t}×{k}", normed.Gpu.All, normed.Cpu.All, 1e-5);
        }
    }

    private static void Embed(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        int vocab = data.Next(2, 300);
        int cols = data.Next(1, 100);
        int rows = data.Next(1, 20);
        var table = pair.Matrix(data.Matrix("embed", vocab, cols, maxParts: 2));
        var ids = pair.Indices(Enumerable.Range(0, rows + 3).Select(_ => data.Next(0, vocab - 1)).ToArray());
        var y = pair.Tensor(rows + 2, cols);
        var yg = y.Gpu.All.RowRange(1, rows);
        pair.Poison(yg);
        pair.Gpu.Embed(table.Gpu, ids.Gpu, 2, yg);
        pair.Cpu.Embed(table.Cpu, ids.Cpu, 2, y.Cpu.All.RowRange(1, rows));
        pair.Compare($"Embed {rows} ids from {vocab}×{cols}", y.Gpu.All, y.Cpu.All, 0);
    }

    /// <summary>
    /// Fills a cache the way the model does (RoPE on q and k, then the KV write, positions
    /// scrambled), compares the rotated rows, then attends from rows at random positions.
    /// </summary>
    private static void RopeKvAttention(BackendFactory create, int seed, int minRows, int maxRows,
        IlgpuOptions? options = null, int headDim = 0, double tolerance = 1e-5)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(options ?? IlgpuOptions.Default), data);
        int[] groups = [1, 3, 4, 5];
        int group = groups[data.Next(0, groups.Length - 1)];
        int kvHeads = data.Next(1, 3);
        int[] headDims = [8, 16, 24, 32, 64, 128];
        int hd = headDim > 0 ? headDim : headDims[data.Next(0, headDims.Length - (minRows > IlgpuBackend.DecodeAttentionRows ? 2 : 1))];
        int heads = group * kvHeads;
        int layers = 2;
        int capacity = data.Next(maxRows + 1, 160);
        int qd = heads * hd;
        int kvd = kvHeads * hd;
        var frequencies = Enumerable.Range(0, hd / 2).Select(i => Math.Pow(10000, -2.0 * i / hd)).ToArray();
        var table = pair.RopeTable(frequencies, capacity);
        var cache = pair.Cache(layers, kvHeads, hd, capacity);
        int layer = data.Next(0, layers - 1);

        var positions = pair.Indices(data.Shuffled(capacity));
        var qkv = pair.Tensor(capacity, qd + 2 * kvd);
        string shape = $"{heads} heads over {kvHeads} kv heads of {hd}, capacity {capacity}";
        foreach (var (backend, tensor, cacheOf, tableOf, positionsOf) in new[]
                 {
                     (pair.Gpu, qkv.Gpu, cache.Gpu, table.Gpu, positions.Gpu),
                     ((IComputeBackend)pair.Cpu, qkv.Cpu, cache.Cpu, table.Cpu, positions.Cpu),
                 })
        {
            var all = tensor.All;
            backend.Rope(all.Columns(0, qd), hd, positionsOf, 0, tableOf);
            backend.Rope(all.Columns(qd, kvd), hd, positionsOf, 0, tableOf);
            backend.WriteKv(cacheOf, layer, all.Columns(qd, kvd), all.Columns(qd + kvd, kvd), positionsOf, 0);
        }
        pair.Compare($"RoPE of q and k ({shape})", qkv.Gpu.All, qkv.Cpu.All, 1e-5);

        int rows = data.Next(minRows, maxRows);
        var rowPositions = pair.Indices(Enumerable.Range(0, rows).Select(_ => data.Next(0, capacity - 1)).ToArray());
        var queries = pair.Tensor(rows, qd);
        var output = pair.Tensor(rows, qd);
        pair.Poison(output.Gpu.All);
        pair.Gpu.Attention(cache.Gpu, layer, queries.Gpu.All, rowPositions.Gpu, 0, output.Gpu.All);
        pair.Cpu.Attention(cache.Cpu, layer, queries.Cpu.All, rowPositions.Cpu, 0, output.Cpu.All);
        pair.Compare($"Attention of {rows} rows ({shape})", output.Gpu.All, output.Cpu.All, tolerance);

        // A lone RoPE followed by a download takes the unfused path.
        var extra = pair.Tensor(rows, kvd);
        pair.Gpu.Rope(extra.Gpu.All, hd, rowPositions.Gpu, 0, table.Gpu);
        pair.Cpu.Rope(extra.Cpu.All, hd, rowPositions.Cpu, 0, table.Cpu);
        pair.Compare($"RoPE alone ({rows} rows)", extra.Gpu.All, extra.Cpu.All, 1e-5);
    }

    private static void ArgMax(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        for (int round = 0; round < 4; round++)
        {
            int length = data.Next(1, 5000);
            var values = data.Values(length);
            // Ties: the maximum repeated at random places; the lowest allowed id must win.
            float top = values.Max() + 1f;
            for (int i = 0; i < data.Next(0, 4); i++)
                values[data.Next(0, length - 1)] = top;
            var row = pair.Tensor(1, length, values);
            var ranges = new List<IdRange>();
            int count = data.Next(1, 6);
            for (int i = 0; i < count; i++)
            {
                int first = data.Next(-10, length + 10);
                ranges.Add(new IdRange(first, first + data.Next(0, length / 2 + 1)));
            }
            if (round == 0)
                ranges = [new IdRange(0, length - 1)];
            bool anyInside = ranges.Any(r => Math.Max(0, r.First) <= Math.Min(length - 1, r.Last));
            if (!anyInside)
            {
                Expect<ArgumentException>(() => pair.Gpu.ArgMax(row.Gpu.All, ranges.ToArray()), "argmax with no allowed id inside the row");
                continue;
            }
            int expected = pair.Cpu.ArgMax(row.Cpu.All, ranges.ToArray());
            int actual = pair.Gpu.ArgMax(row.Gpu.All, ranges.ToArray());
            if (expected != actual)
                throw new CheckFailedException($"ArgMax over {length} values, ranges {string.Join(" ", ranges)}: {actual}, expected {expected} (seed {seed})");
        }
    }

    private static void SwiGluAndSlices(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        int t = data.Next(1, 20);
        int ff = data.Next(1, 200);
        var gateUp = pair.Tensor(t, 2 * ff);
        var y = pair.Tensor(t, ff + 3);
        var yg = y.Gpu.All.Columns(1, ff);
        pair.Poison(yg);
        pair.Gpu.SwiGlu(gateUp.Gpu.All, yg);
        pair.Cpu.SwiGlu(gateUp.Cpu.All, y.Cpu.All.Columns(1, ff));
        pair.Compare($"SwiGLU {t}×{ff}", yg, y.Cpu.All.Columns(1, ff), 1e-5);

        // Uploads and downloads of column slices touch only their columns.
        var values = data.Values(t * 2);
        pair.Gpu.Upload(values, y.Gpu.All.Columns(ff + 1, 2));
        pair.Cpu.Upload(values, y.Cpu.All.Columns(ff + 1, 2));
        pair.Compare($"column-slice upload {t}×2", y.Gpu.All, y.Cpu.All, 1e-5);
    }

    /// <summary>
    /// Host transfers while the GC moves young arrays: a collection runs at a random moment inside
    /// each transfer. ILGPU's copies take the host address as a raw pointer and expect it pinned;
    /// before the backend pinned it, about one tensor round trip in five came back wrong here (a
    /// row of zeros or stale values), and downloads written to an array's old place crashed the
    /// process. Tensor rows whole and per row, both ways, and index uploads (read back through
    /// Embed). Matrix and vector uploads take the same pinned path (HostTransfer) but spend too
    /// long allocating before their copy for a collection timed this way to hit it reliably.
    /// </summary>
    private static void TransfersWhileTheGcMovesArrays(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        int rows = data.Next(2, 8);
        int cols = data.Next(8, 64);
        var tensor = pair.Tensor(rows, cols + 3).Gpu;
        int vocab = data.Next(2, 50);
        var table = pair.Matrix(data.Matrix("embed", vocab, cols, maxParts: 2));
        const int idCount = 16;
        var ids = pair.Indices(new int[idCount]);
        var embedded = pair.Tensor(idCount, cols);
        var gc = new GcDuringTransfers(seed);
        try
        {
            for (int round = 0; round < 200; round++)
            {
                // Whole rows go as one copy, a column slice as one copy per row.
                var slice = round % 2 == 0 ? tensor.All : tensor.All.Columns(1, cols);
                var sent = data.Values(slice.Rows * slice.Cols);
                gc.Next();
                pair.Gpu.Upload(sent, slice);
                var received = new float[sent.Length];
                gc.Next();
                pair.Gpu.Download(slice, received);
                if (!sent.AsSpan().SequenceEqual(received))
                    throw new CheckFailedException($"round trip {round} of a {slice.Rows}×{slice.Cols} slice came back changed while the GC ran (seed {seed})");
            }
            for (int round = 0; round < 10; round++)
            {
                // One upload per id: each is a transfer for the collector to hit, the Embed that checks them costs milliseconds.
                for (int i = 0; i < idCount; i++)
                {
                    int[] chosen = [data.Next(0, vocab - 1)];
                    gc.Next();
                    pair.Gpu.Upload(chosen, ids.Gpu, i);
                    pair.Cpu.Upload(chosen, ids.Cpu, i);
                }
                pair.Gpu.Embed(table.Gpu, ids.Gpu, 0, embedded.Gpu.All);
                pair.Cpu.Embed(table.Cpu, ids.Cpu, 0, embedded.Cpu.All);
                pair.Compare($"Embed of {idCount} ids uploaded while the GC ran (round {round})", embedded.Gpu.All, embedded.Cpu.All, 0);
            }
        }
        finally
        {
            gc.Dispose();
        }
        if (gc.Collections == 0)
            throw new CheckFailedException("no collection ran during the transfers: the check proved nothing");
    }

    private static void Expect<T>(Action action, string what) where T : Exception
    {
        try
        {
            action();
        }
        catch (T)
        {
            return;
        }
        throw new CheckFailedException($"{what}: expected {typeof(T).Name}");
    }
}
