using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Platform;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu.Memory;

/// <summary>
/// The shared K/V store in device memory, [layer][kv head][slot][head dim]: the keys one query
/// reads for one kv head are one contiguous run. fp32 by default; with <see cref="Bf16"/> each
/// value is a bf16 (two per 32-bit word), halving what a decode step reads.
/// </summary>
internal sealed class GpuKvCache : DeviceKvCache
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _keys;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _values;

    public GpuKvCache(AcceleratorHost host, int layers, int kvHeads, int headDim, int capacity, bool bf16)
        : base(layers, kvHeads, headDim, capacity, 2L * layers * kvHeads * capacity * headDim * (bf16 ? 2 : 4))
    {
        Host = host;
        Bf16 = bf16;
        long count = (long)layers * kvHeads * capacity * headDim;
        // bf16 pairs are stored in float-sized words so both layouts share one view type.
        long words = bf16 ? (count + 1) / 2 : count;
        _keys = host.Accelerator.Allocate1D<float>(Math.Max(1, words));
        _values = host.Accelerator.Allocate1D<float>(Math.Max(1, words));
        Keys = _keys.View;
        Values = _values.View;
    }

    public AcceleratorHost Host { get; }
    public bool Bf16 { get; }
    public ArrayView<float> Keys { get; }
    public ArrayView<float> Values { get; }

    public override void Dispose()
    {
        _keys.Dispose();
        _values.Dispose();
    }
}

/// <summary>cos/sin of position × inverse frequency, [position][i] for i below HalfDim, computed in double on the host.</summary>
internal sealed class GpuRopeTable : DeviceRopeTable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _cos;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _sin;

    public GpuRopeTable(AcceleratorHost host, ReadOnlySpan<double> inverseFrequencies, int capacity)
        : base(capacity, inverseFrequencies.Length)
    {
        Host = host;
        int half = inverseFrequencies.Length;
        var cos = new float[Math.Max(1, capacity * half)];
        var sin = new float[Math.Max(1, capacity * half)];
        for (int p = 0; p < capacity; p++)
        {
            for (int i = 0; i < half; i++)
            {
                // Same double-precision angle as the CPU backend's table, so both round identically.
                double angle = p * inverseFrequencies[i];
                cos[p * half + i] = (float)Math.Cos(angle);
                sin[p * half + i] = (float)Math.Sin(angle);
            }
        }
        _cos = host.Accelerator.Allocate1D(cos);
        _sin = host.Accelerator.Allocate1D(sin);
        Cos = _cos.View;
        Sin = _sin.View;
    }

    public AcceleratorHost Host { get; }
    public ArrayView<float> Cos { get; }
    public ArrayView<float> Sin { get; }

    public override void Dispose()
    {
        _cos.Dispose();
        _sin.Dispose();
    }
}
