using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Gemm;
using Ellsa.Tests.Gpu.Checks;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Ops;

/// <summary>
/// The many-row weight product (the packed AVX-512 GEMM where the machine has it) against the
/// family's double-precision reference on the stored weights: fresh shapes from one row to several
/// row chunks with short last micro-tiles and partial panels, matrices all bf16 (packed as bf16
/// pairs) or of mixed bf16/fp32 parts (packed as fp32), with and without bias, strided input and
/// output slices, the three epilogues (store, a function, accumulate into the output), and on every
/// ISA level (below AVX-512 it is the SA-MoE's MatMul). Columns beside the output stay untouched,
/// and a stored output starts poisoned with NaN.
/// </summary>
public sealed class WeightGemmTests
{
    public enum Epilogue { Store, Function, Accumulate }

    public static TheoryData<string, CpuIsa> Cases => IsaTheories.Each(Enum.GetNames<Epilogue>(), CpuIsa.Avx512, CpuIsa.Avx2, CpuIsa.Scalar);

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheReferenceProductOfTheStoredWeights(string epilogue, CpuIsa isa)
    {
        var mode = Enum.Parse<Epilogue>(epilogue);
        using var data = new RandomData(Environment.TickCount ^ (int)isa ^ ((int)mode << 8));
        using var cpu = new CpuBackend(threads: 2, isa);
        using var weights = new NativeWeights();
        for (int round = 0; round < 8; round++)
        {
            int m = round < 3 ? data.Next(1, 9) : data.Next(1, 200), k = data.Next(1, 300), n = data.Next(1, 170);
            var stored = new double[n * k];
            bool allBf16 = data.Chance();
            int bf16Rows = allBf16 ? n : data.Next(0, n);
            var first = new double[bf16Rows * k];
            var rest = new double[(n - bf16Rows) * k];
            var parts = new List<MatrixPart>
            {
                weights.Part(WeightDtype.BF16, bf16Rows, k, () => (float)(data.Random.NextDouble() - 0.5), first),
                weights.Part(WeightDtype.F32, n - bf16Rows, k, () => (float)(data.Random.NextDouble() - 0.5), rest),
            };
            first.CopyTo(stored, 0);
            rest.CopyTo(stored, first.Length);
            using var matrix = cpu.UploadMatrix(new HostMatrix("w", parts));
            var biasValues = data.Values(n);
            using var bias = cpu.UploadVector(biasValues);
            bool withBias = data.Chance();
            var x = data.Values(m * (k + 3));
            using var input = cpu.AllocateTensor(m, k + 3);
            cpu.Upload(x, input.All);
            var before = mode == Epilogue.Accumulate ? data.Values(m * (n + 2)) : HostTensors.Poisoned(m * (n + 2));
            for (int r = 0; r < m; r++)
                before[r * (n + 2)] = before[r * (n + 2) + n + 1] = 7f;
            using var output = cpu.AllocateTensor(m, n + 2);
            cpu.Upload(before, output.All);
            var inputSlice = input.All.Columns(2, k);
            var outputSlice = output.All.Columns(1, n);
            if (mode == Epilogue.Function)
                cpu.WeightGemm(matrix, inputSlice, outputSlice, withBias ? bias : null, accumulate: false, new SwooshL());
            else
                cpu.WeightGemm(matrix, inputSlice, outputSlice, withBias ? bias : null, accumulate: mode == Epilogue.Accumulate, new Copy());
            var actual = new float[m * (n + 2)];
            cpu.Download(output.All, actual);

            var expected = (float[])before.Clone();
            var biasSpan = withBias ? biasValues : ReadOnlySpan<float>.Empty;
            if (mode == Epilogue.Function)
                WeightGemm.Reference(stored, n, k, x.AsSpan(2), k + 3, expected.AsSpan(1), n + 2, m, biasSpan, false, new SwooshL());
            else
                WeightGemm.Reference(stored, n, k, x.AsSpan(2), k + 3, expected.AsSpan(1), n + 2, m, biasSpan, mode == Epilogue.Accumulate, new Copy());
            string what = $"{isa} {mode}: {m}×{k} · ({n}×{k})ᵀ, {(allBf16 ? "all bf16" : $"{bf16Rows} bf16 rows")}, bias {withBias} (seed {data.Seed})";
            for (int r = 0; r < m; r++)
                Assert.True(actual[r * (n + 2)] == 7f && actual[r * (n + 2) + n + 1] == 7f, $"{what}: row {r}'s neighbouring columns were written");
            double error = Numeric.RelativeL2<float>(actual, expected);
            Assert.True(error < 1e-5, $"{what}: relative L2 {error:E2}");
        }
    }

    [Fact]
    public void AnAccumulatingProductTakesNoFunction()
    {
        using var data = new RandomData(3);
        using var cpu = new CpuBackend(threads: 1);
        using var matrix = cpu.UploadMatrix(data.Matrix("ff.out_proj.weight", 4, 4));
        using var x = cpu.AllocateTensor(2, 4);
        using var y = cpu.AllocateTensor(2, 4);
        var error = Assert.Throws<ArgumentException>(() => cpu.WeightGemm(matrix, x.All, y.All, null, accumulate: true, new Relu()));
        Assert.Contains("ff.out_proj.weight", error.Message);
    }
}
