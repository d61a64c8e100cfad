using System.Diagnostics;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Ops.Convolution;

namespace Ellsa.Perf;

/// <summary>
/// <c>conv-cpu</c>: the convolution shapes of the release vision encoder on the CPU backend, the
/// composed path (im2col, the packed GEMM, the layout copy) and the backend's own (the implicit
/// GEMM on AVX-512) alternately on the same random fp32 weights and input, with their agreement:
/// the median and the best round (the best is what other processes on the cores disturb least).
/// </summary>
public static unsafe class ConvBenchmark
{
    private static readonly (int In, int Out, int Side, int Kernel, int Stride)[] Shapes =
    [
        (256, 256, 200, 3, 1), (256, 256, 200, 3, 2), (256, 512, 100, 3, 1), (512, 512, 100, 3, 1),
        (512, 512, 50, 3, 1), (1024, 1024, 25, 3, 1), (1024, 1024, 25, 1, 1),
    ];

    public static int Run(int threads, int rounds)
    {
        using var cpu = new CpuBackend(threads);
        var random = new Random(5);
        Console.WriteLine($"conv-cpu: {cpu.Description}; median of {rounds} rounds");
        foreach (var (inChannels, outChannels, side, kernel, stride) in Shapes)
        {
            // Emu3's downsample pads right and bottom by one; the others are "same" convs.
            var spec = stride == 1
                ? ConvSpec.Conv2d(inChannels, side, side, kernel, padding: kernel / 2)
                : ConvSpec.Conv3d(inChannels, 1, side, side, (1, kernel, kernel), (1, stride, stride), (1, 1, 1), (0, 0, 0, 1, 0, 1));
            var weights = new float[(long)outChannels * spec.Taps];
            for (int i = 0; i < weights.Length; i++)
                weights[i] = (float)(random.NextDouble() - 0.5) * 0.05f;
            var pixels = new float[inChannels * side * side];
            for (int i = 0; i < pixels.Length; i++)
                pixels[i] = (float)(random.NextDouble() * 2 - 1);
            fixed (float* w = weights)
            {
                // Two uploads of one weight: each path keeps its own packing.
                using var composedWeight = cpu.UploadMatrix(new HostMatrix("composed", [new MatrixPart(w, WeightDtype.F32, outChannels, spec.Taps)]));
                using var ownWeight = cpu.UploadMatrix(new HostMatrix("own", [new MatrixPart(w, WeightDtype.F32, outChannels, spec.Taps)]));
                using var bias = cpu.UploadVector(new float[outChannels]);
                using var x = cpu.AllocateTensor(1, pixels.Length);
                cpu.Upload(pixels, x.All);
                using var composedOut = cpu.AllocateTensor(outChannels, spec.Positions);
                using var ownOut = cpu.AllocateTensor(outChannels, spec.Positions);
                using var workspace = new ConvWorkspace(cpu);
                var input = TensorView.Of(x, inChannels, 1, side, side);
                var composed = new List<double>();
                var own = new List<double>();
                for (int r = 0; r <= rounds; r++)
                {
                    var clock = Stopwatch.StartNew();
                    Convolution.Composed(cpu, composedWeight, bias, input, spec, TensorView.Of(composedOut, outChannels, spec.Positions), null, workspace);
                    double first = clock.Elapsed.TotalSeconds;
                    clock.Restart();
                    cpu.Convolve(ownWeight, bias, input, spec, TensorView.Of(ownOut, outChannels, spec.Positions), null, workspace);
                    if (r > 0) // round 0 packs the weights
                    {
                        composed.Add(first);
                        own.Add(clock.Elapsed.TotalSeconds);
                    }
                }
                double flops = 2.0 * outChannels * spec.Taps * spec.Positions;
                double a = Timed.Median(composed), b = Timed.Median(own);
                Console.WriteLine($"{spec} → {outChannels}: composed {a * 1e3:F1} ms ({flops / a / 1e9:F0} GFLOP/s, best {flops / composed.Min() / 1e9:F0}), " +
                                  $"{cpu.Name} {b * 1e3:F1} ms ({flops / b / 1e9:F0} GFLOP/s, best {flops / own.Min() / 1e9:F0}); " +
                                  $"relative L2 between them {Difference(cpu, composedOut, ownOut):E1}");
            }
        }
        return 0;
    }

    private static double Difference(CpuBackend cpu, DeviceTensor a, DeviceTensor b)
    {
        var x = new float[a.Rows * a.Cols];
        var y = new float[b.Rows * b.Cols];
        cpu.Download(a.All, x);
        cpu.Download(b.All, y);
        double diff = 0, norm = 0;
        for (int i = 0; i < x.Length; i++)
        {
            diff += (double)(x[i] - y[i]) * (x[i] - y[i]);
            norm += (double)x[i] * x[i];
        }
        return Math.Sqrt(diff / norm);
    }
}
