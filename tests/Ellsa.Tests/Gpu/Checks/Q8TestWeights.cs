using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Numerics;

namespace Ellsa.Tests.Gpu.Checks;

/// <summary>Q8 parts in native memory, quantised from random floats, freed together.</summary>
public sealed unsafe class Q8TestWeights : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public HostMatrix Matrix(string name, int[] rowsPerPart, int cols, Random random, out double[] dequantised, out double[] original)
    {
        var parts = new List<MatrixPart>();
        var values = new List<double>();
        var floats = new List<double>();
        int blocks = Q8Format.BlocksPerRow(cols);
        foreach (int rows in rowsPerPart)
        {
            var quants = new NativeArray<sbyte>((long)rows * cols);
            var scales = new NativeArray<ushort>((long)rows * blocks);
            _owned.Add(quants);
            _owned.Add(scales);
            for (int r = 0; r < rows; r++)
            {
                var row = Enumerable.Range(0, cols).Select(_ => (float)((random.NextDouble() - 0.5) * 0.2)).ToArray();
                var q = quants.AsSpan((long)r * cols, cols);
                var s = scales.AsSpan((long)r * blocks, blocks);
                Q8Format.QuantizeRow(row, q, s);
                for (int i = 0; i < cols; i++)
                {
                    values.Add(Q8Format.Dequantize(q[i], s[i / 32]));
                    floats.Add(row[i]);
                }
            }
            parts.Add(new MatrixPart(quants.Pointer, scales.Pointer, rows, cols));
        }
        dequantised = values.ToArray();
        original = floats.ToArray();
        return new HostMatrix(name, parts);
    }

    public void Dispose()
    {
        foreach (var item in _owned)
            item.Dispose();
    }
}
