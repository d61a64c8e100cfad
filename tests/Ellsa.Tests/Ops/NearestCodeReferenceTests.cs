using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Ops.Codebook;
using Ellsa.Tests.Gpu.Checks;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Ops;

/// <summary>The quantiser's nearest code through the CPU backend (codebook GEMM + norms) against distances computed in double precision.</summary>
public sealed class NearestCodeReferenceTests
{
    [Fact]
    public void MatchesTheNearestCodeByDistance()
    {
        using var data = new RandomData(Environment.TickCount);
        using var cpu = new CpuBackend(threads: 2);
        using var weights = new NativeWeights();
        for (int round = 0; round < 5; round++)
        {
            int dim = data.Next(1, 8), codes = data.Next(2, 300), rows = data.Next(1, 50);
            var stored = new double[codes * dim];
            using var codebook = cpu.UploadMatrix(new HostMatrix("codebook",
                [weights.Part(WeightDtype.F32, codes, dim, () => (float)(data.Random.NextDouble() * 2 - 1), stored)]));
            var book = stored.Select(v => (float)v).ToArray();
            var vectors = data.Values(rows * dim);
            using var x = cpu.AllocateTensor(rows, dim);
            cpu.Upload(vectors, x.All);
            using var products = cpu.AllocateTensor(rows, codes);
            cpu.MatMul(codebook, x.All, products.All, null, accumulate: false);
            var norms = Enumerable.Range(0, codes).Select(c => book.AsSpan(c * dim, dim).ToArray().Sum(v => v * v)).ToArray();
            using var n = cpu.AllocateTensor(1, codes);
            cpu.Upload(norms, n.All);
            var actual = new int[rows];
            cpu.NearestCodes(products.All, TensorView.Of(n, codes), actual);

            var expected = NearestCode.Reference(vectors, book, dim);
            for (int r = 0; r < rows; r++)
            {
                if (actual[r] == expected[r])
                    continue;
                // fp32 may only differ where two codes are within rounding of each other.
                double Distance(int c) => Enumerable.Range(0, dim).Sum(i => Math.Pow(vectors[r * dim + i] - (double)book[c * dim + i], 2));
                Assert.True(Math.Abs(Distance(actual[r]) - Distance(expected[r])) < 1e-5,
                    $"row {r}: code {actual[r]} (distance {Distance(actual[r])}) instead of {expected[r]} ({Distance(expected[r])}) (seed {data.Seed})");
            }
        }
    }

    [Fact]
    public void TiesGoToTheLowestIndex()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var products = cpu.AllocateTensor(1, 4);
        cpu.Upload([0.5f, 1f, 0.25f, 1f], products.All);
        using var norms = cpu.AllocateTensor(1, 4);
        cpu.Upload([1f, 1f, 1f, 1f], norms.All);
        var codes = new int[1];
        cpu.NearestCodes(products.All, TensorView.Of(norms, 4), codes);
        Assert.Equal(1, codes[0]);
    }
}
