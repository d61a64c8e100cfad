using System.Diagnostics;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Gpu.Memory;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu;

/// <summary>What benchmarks need beyond the model interface: weights made on the device, and the copy bandwidth floor.</summary>
public sealed partial class IlgpuBackend
{
    /// <summary>
    /// A [rows, cols] bf16 matrix of values uniform in ±<paramref name="scale"/>, generated where it
    /// lives (benchmarks at the real size need 33 GB of weights; uploading them is not an option).
    /// </summary>
    public DeviceMatrix CreateRandomMatrix(string name, int rows, int cols, uint seed, float scale)
    {
        return Run("CreateRandomMatrix", $"{name} {rows}×{cols} bf16, {2.0 * rows * cols / 1e9:F2} GB", () =>
        {
            var matrix = new GpuMatrix(_host, name, rows, cols, 2L * rows * cols, [new MatrixRun(0, rows, false, 0)]);
            int units = checked((int)matrix.Units);
            _kernels.FillBf16.Value(_host.Stream, new KernelConfig(Groups(Math.Max(1, Math.Min(units / UtilityKernels.Threads, 65536))), UtilityKernels.Threads),
                matrix.View, units, seed, 0f, scale);
            _host.Stream.Synchronize();
            return (DeviceMatrix)matrix;
        });
    }

    /// <summary>fp32 values uniform in center ± scale (norm weights, biases).</summary>
    public DeviceVector CreateRandomVector(int length, uint seed, float center, float scale)
    {
        var values = new float[length];
        var random = new Random((int)seed);
        for (int i = 0; i < length; i++)
            values[i] = center + scale * (float)(random.NextDouble() * 2 - 1);
        return UploadVector(values);
    }

    /// <summary>
    /// Device-to-device copy bandwidth of the streaming copy kernel, bytes read plus bytes written
    /// per second, one sample per repeat (after one warm-up copy).
    /// </summary>
    public double[] MeasureCopyBandwidth(long bytes, int repeats)
    {
        return Run("MeasureCopyBandwidth", $"{bytes / 1e9:F2} GB × {repeats}", () =>
        {
            long units = bytes / 16;
            using var source = _host.Accelerator.Allocate1D<U4>(units);
            using var destination = _host.Accelerator.Allocate1D<U4>(units);
            int groups = Groups(Math.Max(1, Math.Min(units / UtilityKernels.Threads / 4, 16 * _host.Multiprocessors * 8)));
            var config = new KernelConfig(groups, Threads(UtilityKernels.Threads));
            _kernels.FillBf16.Value(_host.Stream, new KernelConfig(Groups(1024), Threads(UtilityKernels.Threads)), source.View, (int)Math.Min(units, int.MaxValue), 7u, 0f, 1f);
            _kernels.Copy.Value(_host.Stream, config, source.View, destination.View, units);
            _host.Stream.Synchronize();
            var samples = new double[repeats];
            for (int i = 0; i < repeats; i++)
            {
                var watch = Stopwatch.StartNew();
                _kernels.Copy.Value(_host.Stream, config, source.View, destination.View, units);
                _host.Stream.Synchronize();
                samples[i] = 2.0 * units * 16 / watch.Elapsed.TotalSeconds / 1e9;
            }
            return samples;
        });
    }
}
