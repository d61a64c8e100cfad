using System.Diagnostics;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;

namespace Ellsa.Perf;

/// <summary>
/// <c>gemm-cpu</c>: the many-row weight product (WeightGemm) on the speech encoder's release shapes
/// at the row counts one 1-second push brings each stack (48 frames at 50 Hz down to 6 at ÷8) and
/// the projector's 5 rows, random bf16 weights: best of N rounds, GFLOP/s and the rate the weights
/// are read at (each call reads the whole matrix once).
/// </summary>
public static class GemmBenchmark
{
    private static readonly (string Name, int K, int N)[] Shapes =
    [
        ("feed_forward3.in 1280→4800", 1280, 4800),
        ("feed_forward3.out 4800→1280", 4800, 1280),
        ("conv_module.in 1280→2560", 1280, 2560),
        ("speech_proj.0 12800→6400", 12800, 6400),
    ];

    private static readonly int[] RowCounts = [48, 24, 12, 6, 5];

    public static int Run(int threads, int rounds)
    {
        using var backend = new CpuBackend(threads);
        var owned = new List<IDisposable>();
        Console.WriteLine($"gemm-cpu: {backend.Description}; bf16 weights, best of {rounds}");
        Console.WriteLine("| shape | rows | ms | GFLOP/s | weights GB/s |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
        int seed = 1;
        foreach (var (name, k, n) in Shapes)
        {
            using var weight = backend.UploadMatrix(BenchModel.Random(name, n, k, 1 / Math.Sqrt(k), backend, owned, seed++));
            foreach (int m in RowCounts)
            {
                using var input = backend.AllocateTensor(m, k);
                using var output = backend.AllocateTensor(m, n);
                backend.Upload(Enumerable.Range(0, m * k).Select(i => (float)Math.Sin(i)).ToArray(), input.All);
                backend.WeightGemm(weight, input.All, output.All, null);
                double best = double.MaxValue;
                for (int r = 0; r < Math.Max(1, rounds); r++)
                {
                    var clock = Stopwatch.StartNew();
                    backend.WeightGemm(weight, input.All, output.All, null);
                    best = Math.Min(best, clock.Elapsed.TotalSeconds);
                }
                Console.WriteLine($"| {name} | {m} | {best * 1e3:F2} | {2.0 * m * k * n / best / 1e9:F0} | {2.0 * k * n / best / 1e9:F1} |");
            }
        }
        foreach (var item in owned)
            item.Dispose();
        return 0;
    }
}
