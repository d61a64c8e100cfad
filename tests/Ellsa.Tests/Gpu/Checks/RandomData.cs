using Ellsa.Kernels.Backend;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Gpu.Checks;

/// <summary>
/// Fresh random inputs for the checks: values, and weight matrices of mixed bf16/fp32 row parts
/// in native memory (what the loader hands a backend).
/// </summary>
public sealed class RandomData(int seed) : IDisposable
{
    private readonly NativeWeights _weights = new();

    public Random Random { get; } = new(seed);
    public int Seed { get; } = seed;

    public int Next(int min, int maxInclusive) => Random.Next(min, maxInclusive + 1);

    public bool Chance(double p = 0.5) => Random.NextDouble() < p;

    public float[] Values(int count, float scale = 1f, float center = 0f)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = center + scale * (float)(Random.NextDouble() * 2 - 1);
        return values;
    }

    /// <summary>A [rows, cols] matrix of 1 to <paramref name="maxParts"/> row parts, each bf16 or fp32 at random.</summary>
    /// <param name="bf16First">Make the first part bf16, so paths that exist only for bf16 rows (tensor cores) are taken.</param>
    public HostMatrix Matrix(string name, int rows, int cols, int maxParts = 3, float scale = 0.5f, bool? allBf16 = null, bool bf16First = false)
    {
        int partCount = Math.Min(Math.Max(1, rows), Next(1, maxParts));
        var cuts = Enumerable.Range(0, partCount - 1).Select(_ => Next(0, rows)).Order().ToList();
        cuts.Insert(0, 0);
        cuts.Add(rows);
        var parts = new List<MatrixPart>();
        for (int p = 0; p < partCount; p++)
        {
            int partRows = cuts[p + 1] - cuts[p];
            var dtype = (p == 0 && bf16First) ? WeightDtype.BF16 : allBf16 switch
            {
                true => WeightDtype.BF16,
                false => WeightDtype.F32,
                null => Chance() ? WeightDtype.BF16 : WeightDtype.F32,
            };
            parts.Add(Part(dtype, partRows, cols, scale));
        }
        return new HostMatrix(name, parts);
    }

    public MatrixPart Part(WeightDtype dtype, int rows, int cols, float scale) =>
        _weights.Part(dtype, rows, cols, () => scale * (float)(Random.NextDouble() * 2 - 1));

    /// <summary>Positions 0…count−1 in a random order (rows of a batch are not in position order).</summary>
    public int[] Shuffled(int count, int offset = 0)
    {
        var values = Enumerable.Range(offset, count).ToArray();
        Random.Shuffle(values);
        return values;
    }

    public void Dispose() => _weights.Dispose();
}
