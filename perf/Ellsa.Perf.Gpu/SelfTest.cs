using System.Diagnostics;
using Ellsa.Kernels.Gpu;
using Ellsa.Tests.Gpu.Checks;

namespace Ellsa.Perf.Gpu;

/// <summary>
/// The CUDA self-tests: the same kernel checks and golden checks the xunit CUDA tests run
/// (compiled from tests/Ellsa.Tests/Gpu/Checks), on the device this program runs on.
/// </summary>
public static class SelfTest
{
    public static (int Passed, int Failed, List<string> Lines) Run(Func<IlgpuOptions, IlgpuBackend> create, Action<string> log)
    {
        var lines = new List<string>();
        int passed = 0, failed = 0;
        void Record(string name, Action action)
        {
            var watch = Stopwatch.StartNew();
            try
            {
                action();
                passed++;
                lines.Add($"PASS {name} ({watch.Elapsed.TotalSeconds:F1} s)");
            }
            catch (Exception e)
            {
                failed++;
                lines.Add($"FAIL {name}: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
            }
            log(lines[^1]);
        }

        int seed = Environment.TickCount;
        foreach (var check in KernelChecks.All)
        {
            // Three fresh shapes per check: one run proves little about odd sizes.
            for (int round = 0; round < 3; round++)
            {
                int s = seed + 7919 * round + check.Name.Length;
                Record($"kernel {check.Name} (seed {s})", () => check.Run(options => create(options), s));
            }
        }
        foreach (var golden in GoldenChecks.Cases)
        {
            Record($"golden forward {golden}", () =>
            {
                using var backend = create(IlgpuOptions.Default);
                double worst = GoldenChecks.Forward(backend, golden);
                lines.Add($"     worst row relative L2 {worst:E2}");
            });
            Record($"golden generate {golden}", () =>
            {
                using var backend = create(IlgpuOptions.Default);
                GoldenChecks.Generate(backend, golden);
            });
            // Fast mode is a benchmark setting (activations rounded to bf16 once): held to 1e-2, not to the 1e-3 parity target.
            Record($"golden forward {golden}, fast bf16 GEMM (limit 1e-2)", () =>
            {
                using var backend = create(IlgpuOptions.Default with { Precision = GemmPrecision.Fast });
                double worst = GoldenChecks.Forward(backend, golden, tolerance: 1e-2);
                lines.Add($"     fast: worst row relative L2 {worst:E2}");
            });
        }
        return (passed, failed, lines);
    }
}
