using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Tests.Gpu.Checks;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Ops;

/// <summary>
/// The many-row weight product (the packed AVX-512 GEMM where the machine has it) against a
/// double-precision product of the stored weights: fresh shapes with short last row blocks and
/// partial panels, bf16 and fp32 rows, with and without bias, strided input and output slices,
/// and on every ISA level (below AVX-512 it is the SA-MoE's MatMul).
/// </summary>
public sealed class WeightGemmTests
{
    [Theory]
    [InlineData(CpuIsa.Avx512)]
    [InlineData(CpuIsa.Avx2)]
    [InlineData(CpuIsa.Scalar)]
    public void MatchesTheProductOfTheStoredWeights(CpuIsa isa)
    {
        using var data = new RandomData(Environment.TickCount ^ (int)isa);
        using var cpu = new CpuBackend(threads: 2, isa);
        using var weights = new NativeWeights();
        for (int round = 0; round < 8; round++)
        {
            int m = data.Next(1, 70), k = data.Next(1, 300), n = data.Next(1, 90);
            var stored = new double[n * k];
            int bf16Rows = data.Next(0, n);
            var parts = new List<MatrixPart>();
            var first = new double[bf16Rows * k];
            var rest = new double[(n - bf16Rows) * k];
            parts.Add(weights.Part(WeightDtype.BF16, bf16Rows, k, () => (float)(data.Random.NextDouble() - 0.5), first));
            parts.Add(weights.Part(WeightDtype.F32, n - bf16Rows, k, () => (float)(data.Random.NextDouble() - 0.5), rest));
            first.CopyTo(stored, 0);
            rest.CopyTo(stored, first.Length);
            using var matrix = cpu.UploadMatrix(new HostMatrix("w", parts));
            var biasValues = data.Values(n);
            using var bias = cpu.UploadVector(biasValues);
            bool withBias = data.Chance();
            var x = data.Values(m * (k + 3));
            using var input = cpu.AllocateTensor(m, k + 3);
            cpu.Upload(x, input.All);
            using var output = cpu.AllocateTensor(m, n + 2);
            cpu.WeightGemm(matrix, input.All.Columns(2, k), output.All.Columns(1, n), withBias ? bias : null);
            var actual = new float[m * (n + 2)];
            cpu.Download(output.All, actual);

            var got = new float[m * n];
            var expected = new double[m * n];
            for (int r = 0; r < m; r++)
            {
                for (int j = 0; j < n; j++)
                {
                    double sum = withBias ? biasValues[j] : 0;
                    for (int i = 0; i < k; i++)
                        sum += x[r * (k + 3) + 2 + i] * stored[j * k + i];
                    expected[r * n + j] = sum;
                    got[r * n + j] = actual[r * (n + 2) + 1 + j];
                }
            }
            double error = Numeric.RelativeL2<double>(got, expected);
            Assert.True(error < 1e-5, $"{isa}: {m}×{k} · ({n}×{k})ᵀ, bias {withBias}: relative L2 {error:E2} (seed {data.Seed})");
        }
    }
}
