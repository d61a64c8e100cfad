using Ellsa.Kernels.Backend;

namespace Ellsa.Tests.Support;

/// <summary>Random weights in the dtypes a checkpoint can hold, kept alive for the kernels that point into them.</summary>
public sealed class RandomMatrixFactory : IDisposable
{
    private readonly NativeWeights _weights = new();

    public RandomMatrixFactory(Random random) => Random = random;

    public Random Random { get; }

    public float Gaussian(double scale = 1)
    {
        double u = 1 - Random.NextDouble();
        double v = Random.NextDouble();
        return (float)(scale * Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
    }

    public float[] Vector(int length, double scale = 1) => Enumerable.Range(0, length).Select(_ => Gaussian(scale)).ToArray();

    /// <summary>A part of the given dtype; its values, as the kernels see them, are returned in <paramref name="values"/>.</summary>
    public MatrixPart Part(WeightDtype dtype, int rows, int cols, out double[] values, double scale = 1)
    {
        values = new double[(long)rows * cols];
        return _weights.Part(dtype, rows, cols, () => Gaussian(scale), values);
    }

    /// <summary>A matrix stacked from parts of random dtypes and heights; the row-major values are returned.</summary>
    public HostMatrix Stacked(string name, int rows, int cols, out double[] values, double scale = 1)
    {
        var parts = new List<MatrixPart>();
        var all = new List<double>();
        int left = rows;
        while (left > 0)
        {
            int take = parts.Count == 2 ? left : Math.Min(left, Random.Next(1, rows + 1));
            var dtype = Random.Next(2) == 0 ? WeightDtype.BF16 : WeightDtype.F32;
            parts.Add(Part(dtype, take, cols, out var partValues, scale));
            all.AddRange(partValues);
            left -= take;
        }
        values = all.ToArray();
        return new HostMatrix(name, parts);
    }

    public void Dispose() => _weights.Dispose();
}
