using System.Diagnostics;
using Ellsa.Kernels.Cpu;

namespace Ellsa.Perf;

/// <summary>
/// The bf16 row kernels alone on one thread, each over a matrix far larger than the caches,
/// interleaved round by round: the read rate each row grouping reaches, beside the one-thread
/// bandwidth probe. It is the evidence for the decode GEMV's choice of eight-row groups.
/// </summary>
public static unsafe class GemvBenchmark
{
    public static int Run(int cols, int rounds)
    {
        var isa = CpuIsaDetector.Default;
        long bytes = 256L << 20;
        int rows = (int)(bytes / 2 / cols) / 8 * 8;
        using var weights = new NativeArray<ushort>((long)rows * cols, zero: false);
        var random = new Random(3);
        for (long i = 0; i < (long)rows * cols; i++)
            weights.Pointer[i] = (ushort)(0x3C00 + random.Next(256));
        using var x = new NativeArray<float>(cols);
        using var split = new NativeArray<float>(cols);
        using var y = new NativeArray<float>(rows);
        for (int i = 0; i < cols; i++)
            x.Pointer[i] = 1f / (i + 1);
        DotKernels.SplitEvenOdd(isa, x.Pointer, split.Pointer, cols);

        string[] names = ["1 row (prefetching ahead: the decode kernel)", "8 rows (the many-token kernel)"];
        int[] group = [1, 8];
        var best = new double[names.Length];
        Array.Fill(best, double.MaxValue);
        for (int round = 0; round < rounds; round++)
        {
            for (int v = 0; v < names.Length; v++)
            {
                long start = Stopwatch.GetTimestamp();
                ushort* w = weights.Pointer;
                for (int r = 0; r < rows; r += group[v])
                {
                    ushort* row = w + (long)r * cols;
                    if (group[v] == 8)
                        DotKernels.Bf16Rows8(isa, row, cols, x.Pointer, split.Pointer, cols, y.Pointer + r);
                    else
                        y.Pointer[r] = DotKernels.Bf16Row(isa, row, x.Pointer, split.Pointer, cols);
                }
                best[v] = Math.Min(best[v], Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
        }

        double probe;
        string probeLine;
        using (var backend = new CpuBackend(1))
        using (var memory = new MemoryBandwidth(1))
        {
            probe = memory.Measure(backend);
            probeLine = memory.Describe(probe);
        }
        Console.WriteLine($"bf16 GEMV row kernels, one thread, {CpuIsaDetector.Name(isa)}, {rows}×{cols} ({(long)rows * cols * 2 >> 20} MiB), best of {rounds} interleaved rounds");
        Console.WriteLine($"one-thread read bandwidth: {probeLine}");
        Console.WriteLine();
        Console.WriteLine("| rows per pass | GB/s | % of probe |");
        Console.WriteLine("| --- | ---: | ---: |");
        for (int v = 0; v < names.Length; v++)
        {
            double rate = (double)rows * cols * 2 / best[v];
            Console.WriteLine($"| {names[v]} | {rate / 1e9:F1} | {100 * rate / probe:F0} % |");
        }
        return 0;
    }
}
