using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Kernels;

/// <summary>
/// The decode step's fused CPU operations against direct double-precision references, at every
/// SIMD level the machine has, on shapes that span many row chunks (as the model's do) and on
/// matrices stacked from bf16 and f32 parts whose boundaries fall inside chunks and row groups.
/// </summary>
public sealed class FusedDecodeOpsTests
{
    [Theory]
    [MemberData(nameof(CpuBackendTests.Isas), MemberType = typeof(CpuBackendTests))]
    public void GateUpSwiGluMatchesDoublePrecisionAcrossChunks(CpuIsa isa)
    {
        using var backend = new CpuBackend(threads: 2, isa);
        var random = new Random();
        using var factory = new RandomMatrixFactory(random);
        for (int trial = 0; trial < 4; trial++)
        {
            int ff = random.Next(1, 200), k = random.Next(1, 300), rows = random.Next(3) == 0 ? random.Next(2, 12) : 1;
            var matrix = factory.Stacked("gate_up", 2 * ff, k, out var w, scale: 0.2);
            var x = factory.Vector(rows * k);
            using var device = backend.UploadMatrix(matrix);
            using var input = backend.AllocateTensor(rows, k + 1);
            using var output = backend.AllocateTensor(rows, ff + 3);
            var inputSlice = input.All.Columns(1, k);
            var outputSlice = output.All.Columns(2, ff);
            backend.Upload(x, inputSlice);
            backend.GateUpSwiGlu(device, inputSlice, outputSlice);
            var actual = new float[rows * ff];
            backend.Download(outputSlice, actual);
            for (int r = 0; r < rows; r++)
            {
                for (int i = 0; i < ff; i++)
                {
                    double gate = 0, up = 0, gateMagnitude = 0, upMagnitude = 0;
                    for (int c = 0; c < k; c++)
                    {
                        gate += w[(long)i * k + c] * x[r * k + c];
                        up += w[(long)(ff + i) * k + c] * x[r * k + c];
                        gateMagnitude += Math.Abs(w[(long)i * k + c] * x[r * k + c]);
                        upMagnitude += Math.Abs(w[(long)(ff + i) * k + c] * x[r * k + c]);
                    }
                    double expected = gate / (1 + Math.Exp(-gate)) * up;
                    // fp32 sums err by at most about k·ε·Σ|terms|; silu's slope is below 1.1.
                    double tolerance = 4e-5 * ((1 + gateMagnitude) * (1 + Math.Abs(up)) + (1 + upMagnitude) * (1 + Math.Abs(gate)));
                    Assert.True(Math.Abs(actual[r * ff + i] - expected) <= tolerance,
                        $"{isa} ff={ff} k={k} rows={rows}: [{r},{i}] = {actual[r * ff + i]}, expected {expected}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(CpuBackendTests.Isas), MemberType = typeof(CpuBackendTests))]
    public void MatMulArgMaxWritesTheLogitsAndPicksWhatArgMaxPicks(CpuIsa isa)
    {
        using var backend = new CpuBackend(threads: 2, isa);
        var random = new Random();
        using var factory = new RandomMatrixFactory(random);
        for (int trial = 0; trial < 6; trial++)
        {
            // Thousands of rows: the head's product is cut into many 128 KB chunks, each with its own winner.
            int n = random.Next(1, 9000), k = random.Next(1, 130);
            var matrix = factory.Stacked("head", n, k, out var w);
            var x = factory.Vector(k);
            bool useBias = random.Next(2) == 0;
            var bias = factory.Vector(n);
            using var device = backend.UploadMatrix(matrix);
            using var biasVector = backend.UploadVector(bias);
            using var input = backend.AllocateTensor(1, k);
            using var logits = backend.AllocateTensor(1, n + 7);
            var output = logits.All.Columns(0, n);
            backend.Upload(x, input.All);

            IdRange[] allowed = random.Next(2) == 0
                ? [new IdRange(0, n - 1)]
                : [new IdRange(random.Next(n), n - 1), IdRange.Single(random.Next(n)), new IdRange(-5, random.Next(n))];
            int id = backend.MatMulArgMax(device, input.All, output, useBias ? biasVector : null, allowed);

            var actual = new float[n];
            backend.Download(output, actual);
            var expectedLogits = new double[n];
            for (int r = 0; r < n; r++)
            {
                double sum = 0, magnitude = 0;
                for (int c = 0; c < k; c++)
                {
                    sum += w[(long)r * k + c] * x[c];
                    magnitude += Math.Abs(w[(long)r * k + c] * x[c]);
                }
                expectedLogits[r] = sum + (useBias ? bias[r] : 0);
                Assert.True(Math.Abs(actual[r] - expectedLogits[r]) <= 1e-6 * (magnitude + Math.Abs(sum) + 1), $"{isa} n={n} k={k}: logit {r} = {actual[r]}, expected {expectedLogits[r]}");
            }
            // The choice is the serial rule's on the logits as computed: largest, lowest id on ties.
            int expected = -1;
            foreach (var range in allowed)
            {
                for (int i = Math.Max(0, range.First); i <= Math.Min(n - 1, range.Last); i++)
                {
                    if (expected < 0 || actual[i] > actual[expected] || (actual[i] == actual[expected] && i < expected))
                        expected = i;
                }
            }
            Assert.Equal(expected, id);
            Assert.Equal(backend.ArgMax(output, allowed), id);
        }
    }

    [Fact]
    public void MatMulArgMaxPrefersTheLowestIdAcrossChunksOnTies()
    {
        var backend = SharedBackends.Cpu;
        var random = new Random();
        using var factory = new RandomMatrixFactory(random);
        int n = 6000, k = 64;
        // bf16 rows: 128 B each, so 1024 rows to a chunk; two equal best rows in different chunks.
        var part = factory.Part(WeightDtype.BF16, n, k, out _);
        int low = random.Next(0, 1000), high = random.Next(3000, n);
        unsafe
        {
            var rows = (ushort*)part.Data;
            for (int c = 0; c < k; c++)
            {
                rows[(long)low * k + c] = Ellsa.Kernels.Numerics.BFloat16.FromSingle(4);
                rows[(long)high * k + c] = Ellsa.Kernels.Numerics.BFloat16.FromSingle(4);
            }
        }
        using var device = backend.UploadMatrix(new HostMatrix("head", [part]));
        using var input = backend.AllocateTensor(1, k);
        using var output = backend.AllocateTensor(1, n);
        backend.Upload(Enumerable.Repeat(1f, k).ToArray(), input.All);
        Assert.Equal(low, backend.MatMulArgMax(device, input.All, output.All, null, [new IdRange(0, n - 1)]));
        Assert.Equal(high, backend.MatMulArgMax(device, input.All, output.All, null, [new IdRange(low + 1, n - 1)]));
    }
}
