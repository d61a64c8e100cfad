using System.Runtime.InteropServices;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Numerics;

namespace Ellsa.Tests.Support;

/// <summary>
/// Weight parts in native memory, as the loader hands them to a backend (which keeps pointers
/// into them), all freed together.
/// </summary>
public sealed unsafe class NativeWeights : IDisposable
{
    private readonly List<nint> _allocations = [];

    /// <summary>
    /// A [rows, cols] part of <paramref name="dtype"/> filled from <paramref name="next"/>; when
    /// <paramref name="stored"/> is given it receives the values as stored (bf16-rounded).
    /// </summary>
    public MatrixPart Part(WeightDtype dtype, int rows, int cols, Func<float> next, double[]? stored = null)
    {
        long count = (long)rows * cols;
        if (dtype == WeightDtype.BF16)
        {
            var data = (ushort*)Allocate(count * 2);
            for (long i = 0; i < count; i++)
            {
                data[i] = BFloat16.FromSingle(next());
                if (stored != null)
                    stored[i] = BFloat16.ToSingle(data[i]);
            }
            return new MatrixPart(data, dtype, rows, cols);
        }
        var floats = (float*)Allocate(count * 4);
        for (long i = 0; i < count; i++)
        {
            floats[i] = next();
            if (stored != null)
                stored[i] = floats[i];
        }
        return new MatrixPart(floats, dtype, rows, cols);
    }

    private void* Allocate(long bytes)
    {
        var pointer = NativeMemory.AlignedAlloc((nuint)Math.Max(1, bytes), 64);
        _allocations.Add((nint)pointer);
        return pointer;
    }

    public void Dispose()
    {
        foreach (var pointer in _allocations)
            NativeMemory.AlignedFree((void*)pointer);
        _allocations.Clear();
    }
}
