using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Gpu.Platform;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu.Memory;

/// <summary>One run of rows of one dtype inside a <see cref="GpuMatrix"/>.</summary>
internal readonly record struct MatrixRun(int FirstRow, int Rows, bool F32, int UnitOffset);

/// <summary>
/// A weight matrix in device memory: rows padded to whole 8-element groups, stored run by run
/// (see <see cref="MatrixRuns"/>), with the 16-byte unit as the element type.
/// </summary>
internal sealed class GpuMatrix : DeviceMatrix
{
    public const int MaxRuns = 4;

    private readonly MemoryBuffer1D<U4, Stride1D.Dense> _buffer;

    public GpuMatrix(AcceleratorHost host, string name, int rows, int cols, long byteSize, IReadOnlyList<MatrixRun> runs)
        : base(name, rows, cols, byteSize)
    {
        if (runs.Count is 0 or > MaxRuns)
            throw new ArgumentException($"{name}: {runs.Count} dtype runs (1 to {MaxRuns} supported)");
        Host = host;
        Groups = (cols + 7) / 8;
        Runs = runs.ToArray();
        long units = 0;
        foreach (var run in Runs)
            units = Math.Max(units, run.UnitOffset + (long)run.Rows * UnitsPerRow(run.F32));
        if (units > int.MaxValue)
            throw new ArgumentException($"{name}: {units} 16-byte units exceed the 32-bit indexing of the kernels");
        Units = units;
        _buffer = host.Accelerator.Allocate1D<U4>(Math.Max(1, units));
        View = _buffer.View;
        Descriptor = Describe(Runs, Groups);
        HasBf16Rows = Runs.Any(r => !r.F32 && r.Rows > 0);
    }

    public AcceleratorHost Host { get; }
    public int Groups { get; }
    public MatrixRun[] Runs { get; }
    public long Units { get; }
    public ArrayView<U4> View { get; }
    public MatrixRuns Descriptor { get; }
    /// <summary>Whether some rows can go to the tensor cores (bf16); computed once, read on every prefill projection.</summary>
    public bool HasBf16Rows { get; }

    public int UnitsPerRow(bool f32) => f32 ? 2 * Groups : Groups;

    public override void Dispose() => _buffer.Dispose();

    private static MatrixRuns Describe(MatrixRun[] runs, int groups)
    {
        int Start(int i) => i < runs.Length ? runs[i].FirstRow : int.MaxValue;
        int Offset(int i) => i < runs.Length ? runs[i].UnitOffset : 0;
        int bits = 0;
        for (int i = 0; i < runs.Length; i++)
            bits |= runs[i].F32 ? 1 << i : 0;
        return new MatrixRuns
        {
            Groups = groups,
            Start1 = Start(1), Start2 = Start(2), Start3 = Start(3),
            Offset0 = Offset(0), Offset1 = Offset(1), Offset2 = Offset(2), Offset3 = Offset(3),
            F32Bits = bits,
        };
    }
}
