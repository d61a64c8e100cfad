using System.Diagnostics;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Numerics;

namespace Ellsa.Perf;

/// <summary>
/// The decode's row kernels alone, each over 256 MiB of weights (far larger than the caches), every
/// thread streaming its own contiguous half as the decode's products do, interleaved round by round:
/// the read rate each kernel reaches beside the bandwidth probe at the same thread count. It is the
/// evidence for reading one row at a time with prefetching in single-token products (bf16 and Q8),
/// and shows what the eight-row kernel of the many-token products would read from memory.
/// </summary>
public static unsafe class GemvBenchmark
{
    public static int Run(int cols, int rounds, int threads)
    {
        var isa = CpuIsaDetector.Default;
        long bytes = 256L << 20;
        int bf16Rows = (int)(bytes / 2 / cols) / 8 * 8;
        int q8Rows = (int)(bytes / cols);
        int blocks = Q8Format.BlocksPerRow(cols);
        using var bf16 = new NativeArray<ushort>((long)bf16Rows * cols, zero: false);
        using var quants = new NativeArray<sbyte>((long)q8Rows * cols, zero: false);
        using var scales = new NativeArray<ushort>((long)q8Rows * blocks, zero: false);
        var random = new Random(3);
        for (long i = 0; i < (long)bf16Rows * cols; i++)
            bf16.Pointer[i] = (ushort)(0x3C00 + random.Next(256));
        random.NextBytes(new Span<byte>(quants.Pointer, (int)Math.Min(int.MaxValue, (long)q8Rows * cols)));
        for (long i = 0; i < (long)q8Rows * blocks; i++)
            scales.Pointer[i] = Q8Format.HalfBits(1e-3f * (1 + random.Next(100)));
        using var x = new NativeArray<float>(cols);
        using var split = new NativeArray<float>(cols);
        using var y = new NativeArray<float>(Math.Max(bf16Rows, q8Rows));
        for (int i = 0; i < cols; i++)
            x.Pointer[i] = 1f / (i + 1);
        DotKernels.SplitEvenOdd(isa, x.Pointer, split.Pointer, cols);
        using var quantized = new Q8Activations();
        quantized.Quantize(x.Pointer, 1, cols, cols);

        var kernels = new List<(string Name, long Bytes, RowsJob Job)>
        {
            ("bf16, 1 row at a time, prefetching (single-token products)", (long)bf16Rows * cols * 2,
                new RowsJob(bf16Rows, threads, (first, count) => Bf16(isa, bf16.Pointer, cols, first, count, x.Pointer, split.Pointer, y.Pointer, 1))),
            ("bf16, 8 rows side by side (many-token products)", (long)bf16Rows * cols * 2,
                new RowsJob(bf16Rows, threads, (first, count) => Bf16(isa, bf16.Pointer, cols, first, count, x.Pointer, split.Pointer, y.Pointer, 8))),
        };
        using var packed = Ellsa.Kernels.Backend.PackedBf16Rows.Pack(bf16.Pointer, bf16Rows, cols);
        kernels.Add(("packed bf16 (12 bits), 1 row at a time, prefetching", packed.ByteSize,
            new RowsJob(bf16Rows, threads, (first, count) => Packed(isa, packed, first, count, x.Pointer, split.Pointer, y.Pointer))));
        foreach (var path in Enum.GetValues<Q8Path>().Where(p => p != Q8Path.Scalar && Q8Paths.IsSupported(p)))
        {
            kernels.Add(($"Q8, 1 row at a time, prefetching ({Q8Paths.Name(path)})", (long)q8Rows * (cols + 2 * blocks),
                new RowsJob(q8Rows, threads, (first, count) => Q8(path, quants.Pointer, scales.Pointer, cols, blocks, first, count, quantized, y.Pointer))));
        }

        using var backend = new CpuBackend(threads);
        // The probe takes its turn in every round (the machine's read rate drifts over seconds); its best round is the floor.
        using var memory = new MemoryBandwidth(threads);
        var best = new double[kernels.Count];
        Array.Fill(best, double.MaxValue);
        for (int round = 0; round < rounds; round++)
        {
            for (int v = 0; v < kernels.Count; v++)
            {
                long start = Stopwatch.GetTimestamp();
                backend.Run(kernels[v].Job, threads);
                best[v] = Math.Min(best[v], Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
            memory.Measure(backend, passes: 3);
        }

        Console.WriteLine($"decode row kernels, {threads} thread{(threads == 1 ? "" : "s")}, {CpuIsaDetector.Name(isa)}, {cols} columns, 256 MiB of weights each, best of {rounds} interleaved rounds");
        double probe = memory.BestRate;
        Console.WriteLine($"read bandwidth, best round: {memory.BestLine}");
        Console.WriteLine();
        Console.WriteLine("| kernel | GB/s | % of probe |");
        Console.WriteLine("| --- | ---: | ---: |");
        for (int v = 0; v < kernels.Count; v++)
        {
            double rate = kernels[v].Bytes / best[v];
            Console.WriteLine($"| {kernels[v].Name} | {rate / 1e9:F1} | {100 * rate / probe:F0} % |");
        }
        return 0;
    }

    private static void Bf16(CpuIsa isa, ushort* w, int cols, int first, int count, float* x, float* split, float* y, int group)
    {
        int r = first, end = first + count;
        if (group == 8)
        {
            for (; r + 8 <= end; r += 8)
                DotKernels.Bf16Rows8(isa, w + (long)r * cols, cols, x, split, cols, y + r);
        }
        for (; r < end; r++)
            y[r] = DotKernels.Bf16Row(isa, w + (long)r * cols, x, split, cols);
    }

    private static void Packed(CpuIsa isa, Ellsa.Kernels.Backend.PackedBf16Rows rows, int first, int count, float* x, float* split, float* y)
    {
        for (int r = first; r < first + count; r++)
            y[r] = PackedBf16Kernels.Row(isa, rows, r, x, split);
    }

    private static void Q8(Q8Path path, sbyte* w, ushort* scales, int cols, int blocks, int first, int count, Q8Activations x, float* y)
    {
        float* combined = stackalloc float[blocks];
        for (int r = first; r < first + count; r++)
            y[r] = Q8DotKernels.Row(path, w + (long)r * cols, scales + (long)r * blocks, x, 0, combined);
    }

    /// <summary>Chunk t reads rows [t·rows/threads, (t+1)·rows/threads): each thread its own contiguous run.</summary>
    private sealed class RowsJob(int rows, int threads, Action<int, int> kernel) : IParallelWork
    {
        public void Execute(int chunk, int worker)
        {
            int first = (int)((long)rows * chunk / threads), end = (int)((long)rows * (chunk + 1) / threads);
            kernel(first, end - first);
        }
    }
}
