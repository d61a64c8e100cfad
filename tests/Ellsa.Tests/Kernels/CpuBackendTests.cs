using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Kernels;

/// <summary>
/// Each CPU operation against a direct double-precision computation, on fresh random shapes and
/// values every run, at every SIMD level this machine has (the hand-written paths differ per level).
/// </summary>
public sealed class CpuBackendTests
{
    public static TheoryData<CpuIsa> Isas()
    {
        var data = new TheoryData<CpuIsa>();
        foreach (var isa in Enum.GetValues<CpuIsa>())
        {
            if (isa <= CpuIsaDetector.Best)
                data.Add(isa);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void MatMulMatchesDoublePrecision(CpuIsa isa)
    {
        using var backend = new CpuBackend(threads: 2, isa);
        var random = new Random();
        using var factory = new RandomMatrixFactory(random);
        int[] widths = [1, 5, 8, 16, 31, 32, 33, 47, 64, 100, 257];
        for (int trial = 0; trial < 24; trial++)
        {
            int k = widths[random.Next(widths.Length)];
            int n = random.Next(1, 70);
            int tokens = random.Next(3) == 0 ? 1 : random.Next(2, 20);
            bool useBias = random.Next(2) == 0;
            bool accumulate = random.Next(2) == 0;
            var matrix = factory.Stacked("w", n, k, out var w);
            var x = Enumerable.Range(0, tokens).Select(_ => factory.Vector(k)).ToArray();
            var bias = factory.Vector(n);
            var initial = Enumerable.Range(0, tokens).Select(_ => factory.Vector(n)).ToArray();

            using var device = backend.UploadMatrix(matrix);
            using var biasVector = backend.UploadVector(bias);
            // Slices in the middle of larger tensors check that strides and offsets are honoured.
            using var input = backend.AllocateTensor(tokens + 2, k + 3);
            using var output = backend.AllocateTensor(tokens + 1, n + 5);
            var inputSlice = input.RowRange(1, tokens).Columns(2, k);
            var outputSlice = output.RowRange(1, tokens).Columns(4, n);
            backend.Upload(x.SelectMany(r => r).ToArray(), inputSlice);
            backend.Upload(initial.SelectMany(r => r).ToArray(), outputSlice);
            backend.MatMul(device, inputSlice, outputSlice, useBias ? biasVector : null, accumulate);
            var actual = new float[tokens * n];
            backend.Download(outputSlice, actual);

            for (int t = 0; t < tokens; t++)
            {
                for (int r = 0; r < n; r++)
                {
                    double expected = 0, magnitude = 0;
                    for (int c = 0; c < k; c++)
                    {
                        expected += w[(long)r * k + c] * x[t][c];
                        magnitude += Math.Abs(w[(long)r * k + c] * x[t][c]);
                    }
                    if (useBias)
                        expected += bias[r];
                    if (accumulate)
                        expected += initial[t][r];
                    double tolerance = 1e-6 * (magnitude + Math.Abs(expected) + 1);
                    Assert.True(Math.Abs(actual[t * n + r] - expected) <= tolerance,
                        $"{isa} k={k} n={n} tokens={tokens}: [{t},{r}] = {actual[t * n + r]}, expected {expected}");
                }
            }
        }
    }

    [Fact]
    public void RmsNormMatchesDoublePrecision()
    {
        var backend = SharedBackends.Cpu;
        var random = new Random();
        using var factory = new RandomMatrixFactory(random);
        int rows = random.Next(1, 9), width = random.Next(1, 200);
        float eps = (float)Math.Pow(10, -random.Next(4, 7));
        var x = Enumerable.Range(0, rows).Select(_ => factory.Vector(width, 3)).ToArray();
        var weight = factory.Vector(width);
        using var w = backend.UploadVector(weight);
        using var input = backend.AllocateTensor(rows, width);
        using var output = backend.AllocateTensor(rows, width);
        backend.Upload(x.SelectMany(r => r).ToArray(), input.All);
        backend.RmsNorm(input.All, w, eps, output.All);
        var actual = new float[rows * width];
        backend.Download(output.All, actual);
        for (int r = 0; r < rows; r++)
        {
            double meanSquare = x[r].Sum(v => (double)v * v) / width;
            double scale = 1 / Math.Sqrt(meanSquare + eps);
            for (int c = 0; c < width; c++)
                Assert.Equal(x[r][c] * scale * weight[c], actual[r * width + c], 1e-4);
        }
    }

    [Fact]
    public void RopeRotatesHalvesByPositionTimesFrequency()
    {
        var backend = SharedBackends.Cpu;
        var random = new Random();
        using var factory = new RandomMatrixFactory(random);
        int headDim = 2 * random.Next(1, 33), heads = random.Next(1, 5), rows = random.Next(1, 7), capacity = 5000;
        var frequencies = Enumerable.Range(0, headDim / 2).Select(i => Math.Pow(random.Next(1000, 1_000_000), -2.0 * i / headDim)).ToArray();
        var positions = Enumerable.Range(0, rows).Select(_ => random.Next(capacity)).ToArray();
        var x = factory.Vector(rows * heads * headDim);
        using var table = backend.CreateRopeTable(frequencies, capacity);
        using var tensor = backend.AllocateTensor(rows, heads * headDim);
        using var indices = backend.AllocateIndices(rows);
        backend.Upload(x, tensor.All);
        backend.Upload(positions, indices, 0);
        backend.Rope(tensor.All, headDim, indices, 0, table);
        var actual = new float[x.Length];
        backend.Download(tensor.All, actual);
        int half = headDim / 2;
        for (int r = 0; r < rows; r++)
        {
            for (int h = 0; h < heads; h++)
            {
                int b = r * heads * headDim + h * headDim;
                for (int i = 0; i < half; i++)
                {
                    double angle = positions[r] * frequencies[i];
                    double a = x[b + i], c = x[b + i + half];
                    Assert.Equal(a * Math.Cos(angle) - c * Math.Sin(angle), actual[b + i], 1e-4);
                    Assert.Equal(c * Math.Cos(angle) + a * Math.Sin(angle), actual[b + i + half], 1e-4);
                }
            }
        }
    }

    [Fact]
    public void AttentionIsCausalGqaOverCachedSlots()
    {
        var backend = SharedBackends.Cpu;
        var random = new Random();
        using var factory = new RandomMatrixFactory(random);
        foreach (int group in new[] { 1, 2, 3, 4, 5 })
        {
            int kvHeads = random.Next(1, 4), headDim = random.Next(1, 9) * 2, layers = 2, capacity = random.Next(8, 60);
            int heads = kvHeads * group, layer = random.Next(layers);
            using var cache = backend.AllocateKvCache(layers, kvHeads, headDim, capacity);
            var keys = factory.Vector(capacity * kvHeads * headDim);
            var values = factory.Vector(capacity * kvHeads * headDim);
            using var kvTensor = backend.AllocateTensor(capacity, 2 * kvHeads * headDim);
            using var allPositions = backend.AllocateIndices(capacity);
            backend.Upload(Enumerable.Range(0, capacity).ToArray(), allPositions, 0);
            var packed = new float[capacity * 2 * kvHeads * headDim];
            for (int p = 0; p < capacity; p++)
            {
                keys.AsSpan(p * kvHeads * headDim, kvHeads * headDim).CopyTo(packed.AsSpan(p * 2 * kvHeads * headDim));
                values.AsSpan(p * kvHeads * headDim, kvHeads * headDim).CopyTo(packed.AsSpan(p * 2 * kvHeads * headDim + kvHeads * headDim));
            }
            backend.Upload(packed, kvTensor.All);
            backend.WriteKv(cache, layer, kvTensor.All.Columns(0, kvHeads * headDim), kvTensor.All.Columns(kvHeads * headDim, kvHeads * headDim), allPositions, 0);

            // Queries at scrambled positions, as the model lists rows grouped by expert.
            int rows = random.Next(1, 8);
            var positions = Enumerable.Range(0, rows).Select(_ => random.Next(capacity)).ToArray();
            var q = factory.Vector(rows * heads * headDim);
            using var queries = backend.AllocateTensor(rows, heads * headDim);
            using var output = backend.AllocateTensor(rows, heads * headDim);
            using var queryPositions = backend.AllocateIndices(rows);
            backend.Upload(q, queries.All);
            backend.Upload(positions, queryPositions, 0);
            backend.Attention(cache, layer, queries.All, queryPositions, 0, output.All);
            var actual = new float[rows * heads * headDim];
            backend.Download(output.All, actual);

            for (int r = 0; r < rows; r++)
            {
                for (int h = 0; h < heads; h++)
                {
                    int g = h / group;
                    var scores = new double[positions[r] + 1];
                    for (int j = 0; j <= positions[r]; j++)
                    {
                        double s = 0;
                        for (int d = 0; d < headDim; d++)
                            s += q[(r * heads + h) * headDim + d] * keys[(j * kvHeads + g) * headDim + d];
                        scores[j] = s / Math.Sqrt(headDim);
                    }
                    double max = scores.Max();
                    double sum = scores.Sum(s => Math.Exp(s - max));
                    for (int d = 0; d < headDim; d++)
                    {
                        double expected = 0;
                        for (int j = 0; j <= positions[r]; j++)
                            expected += Math.Exp(scores[j] - max) / sum * values[(j * kvHeads + g) * headDim + d];
                        Assert.Equal(expected, actual[(r * heads + h) * headDim + d], 1e-4);
                    }
                }
            }
        }
    }

    [Fact]
    public void GateUpSwiGluEqualsSiluOfGateTimesUp()
    {
        var backend = SharedBackends.Cpu;
        var random = new Random();
        using var factory = new RandomMatrixFactory(random);
        int ff = random.Next(1, 50), k = random.Next(1, 70), rows = random.Next(1, 6);
        var matrix = factory.Stacked("gate_up", 2 * ff, k, out var w);
        var x = factory.Vector(rows * k);
        using var device = backend.UploadMatrix(matrix);
        using var input = backend.AllocateTensor(rows, k);
        using var output = backend.AllocateTensor(rows, ff);
        backend.Upload(x, input.All);
        backend.GateUpSwiGlu(device, input.All, output.All);
        var actual = new float[rows * ff];
        backend.Download(output.All, actual);
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < ff; i++)
            {
                double gate = 0, up = 0;
                for (int c = 0; c < k; c++)
                {
                    gate += w[(long)i * k + c] * x[r * k + c];
                    up += w[(long)(ff + i) * k + c] * x[r * k + c];
                }
                double expected = gate / (1 + Math.Exp(-gate)) * up;
                Assert.Equal(expected, actual[r * ff + i], 1e-3 * (1 + Math.Abs(expected)));
            }
        }
    }

    [Fact]
    public void EmbedGathersRowsAcrossPartsOfEveryDtype()
    {
        var backend = SharedBackends.Cpu;
        var random = new Random();
        using var factory = new RandomMatrixFactory(random);
        int vocab = random.Next(2, 40), d = random.Next(1, 30), rows = random.Next(1, 10);
        var table = factory.Stacked("embed", vocab, d, out var values);
        var ids = Enumerable.Range(0, rows).Select(_ => random.Next(vocab)).ToArray();
        using var device = backend.UploadMatrix(table);
        using var indices = backend.AllocateIndices(rows + 3);
        using var output = backend.AllocateTensor(rows, d);
        backend.Upload(ids, indices, 3);
        backend.Embed(device, indices, 3, output.All);
        var actual = new float[rows * d];
        backend.Download(output.All, actual);
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < d; c++)
                Assert.Equal((float)values[(long)ids[r] * d + c], actual[r * d + c]);
        }
    }

    [Fact]
    public void ArgMaxHonoursRangesAndPrefersTheLowestIdOnTies()
    {
        var backend = SharedBackends.Cpu;
        var random = new Random();
        int width = random.Next(20, 400);
        var values = Enumerable.Range(0, width).Select(_ => (float)random.Next(-50, 50)).ToArray();
        using var tensor = backend.AllocateTensor(1, width);
        backend.Upload(values, tensor.All);
        Assert.Equal(Array.IndexOf(values, values.Max()), backend.ArgMax(tensor.All, [new IdRange(0, width - 1)]));

        int first = random.Next(width / 2), last = random.Next(first, width);
        int single = random.Next(width);
        var allowed = new[] { new IdRange(first, last), IdRange.Single(single) };
        int expected = -1;
        foreach (int i in Enumerable.Range(first, last - first + 1).Append(single).Order())
        {
            if (expected < 0 || values[i] > values[expected])
                expected = i;
        }
        Assert.Equal(expected, backend.ArgMax(tensor.All, allowed));
    }
}
