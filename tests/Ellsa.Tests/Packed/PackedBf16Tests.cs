using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Numerics;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Decoding;
using Ellsa.Runtime.Moe;
using Ellsa.Tests.Kernels;
using Ellsa.Tests.Moe;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Packed;

/// <summary>
/// The lossless 12-bit bf16 format on fresh random rows every run: packing then decoding gives back
/// every bit (exceptions included: values beyond the row's 15 binades, subnormals, −0, ±∞, NaN);
/// every instruction path's product equals a double-precision sum of the same values; the backend's
/// products over packed parts agree with the plain bf16 ones to fp32 rounding; and a model loaded
/// with <c>bf16-packed</c> gives the bf16 load's logits.
/// </summary>
public sealed unsafe class PackedBf16Tests
{
    /// <summary>bf16 bits: mostly normal values over a wide exponent range (so some rows need exceptions), with the special values mixed in.</summary>
    private static ushort[] RandomRow(Random random, int cols, bool specials)
    {
        var row = new ushort[cols];
        int top = random.Next(20, 250);
        int spread = random.Next(2) == 0 ? 10 : 30;
        for (int i = 0; i < cols; i++)
        {
            int kind = random.Next(100);
            int exponent = Math.Clamp(top - random.Next(spread), 1, 254);
            ushort bits = (ushort)((random.Next(2) << 15) | (exponent << 7) | random.Next(128));
            if (kind < 3)
                bits = 0;
            else if (specials && kind < 5)
                bits = (ushort)(random.Next(2) == 0 ? 0x8000 : random.Next(1, 128)); // −0 or a subnormal
            else if (specials && kind < 6)
                bits = (ushort)(random.Next(3) switch { 0 => 0x7F80, 1 => 0xFF80, _ => 0x7FC1 }); // ±∞, NaN
            row[i] = bits;
        }
        return row;
    }

    private static PackedBf16Rows Pack(ushort[] values, int rows, int cols)
    {
        fixed (ushort* p = values)
            return PackedBf16Rows.Pack(p, rows, cols);
    }

    [Fact]
    public void PackingKeepsEveryBit()
    {
        var random = new Random();
        long exceptions = 0;
        for (int trial = 0; trial < 30; trial++)
        {
            int rows = random.Next(1, 6), cols = 64 * random.Next(1, 20);
            var values = Enumerable.Range(0, rows).SelectMany(_ => RandomRow(random, cols, specials: true)).ToArray();
            using var packed = Pack(values, rows, cols);
            exceptions += packed.Exceptions;
            var decoded = new ushort[cols];
            for (int r = 0; r < rows; r++)
            {
                packed.DecodeRow(r, decoded);
                Assert.Equal(values.AsSpan(r * cols, cols).ToArray(), decoded);
            }
            // 12 bits a value, plus per row its exponent and exception start, plus 6 bytes an exception.
            Assert.Equal((long)rows * cols * 3 / 2 + rows + 4L * (rows + 1) + 6 * packed.Exceptions, packed.ByteSize);
        }
        Assert.True(exceptions > 0, "the draws must exercise the exception lists");
    }

    [Fact]
    public void BlockLayoutPositionsAreAPermutation()
    {
        var seen = new bool[PackedBf16.BlockSize];
        for (int p = 0; p < PackedBf16.BlockSize; p++)
        {
            int v = PackedBf16.ValueAt(p);
            Assert.False(seen[v]);
            seen[v] = true;
            Assert.Equal(p, PackedBf16.PositionOf(v));
        }
    }

    [Theory]
    [MemberData(nameof(CpuBackendTests.Isas), MemberType = typeof(CpuBackendTests))]
    public void EveryPathMatchesTheDoubleSumOfTheSameValues(CpuIsa isa)
    {
        var random = new Random();
        for (int trial = 0; trial < 30; trial++)
        {
            int rows = random.Next(1, 4), cols = 64 * random.Next(1, 24);
            var values = Enumerable.Range(0, rows).SelectMany(_ => RandomRow(random, cols, specials: false)).ToArray();
            // Finite values only here; a row may still hold exceptions (tiny values beyond its span).
            using var packed = Pack(values, rows, cols);
            var x = Enumerable.Range(0, cols).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
            var split = new float[cols];
            fixed (float* px = x)
            fixed (float* ps = split)
            {
                if (DotKernels.BlockWidth(isa) > 0)
                    DotKernels.SplitEvenOdd(isa, px, ps, cols);
                for (int r = 0; r < rows; r++)
                {
                    float actual = PackedBf16Kernels.Row(isa, packed, r, px, ps);
                    double expected = 0, magnitude = 0;
                    for (int i = 0; i < cols; i++)
                    {
                        double term = (double)BFloat16.ToSingle(values[r * cols + i]) * x[i];
                        expected += term;
                        magnitude += Math.Abs(term);
                    }
                    Assert.True(Math.Abs(actual - expected) <= 1e-5 * magnitude + 1e-30,
                        $"{isa} cols {cols} row {r}: {actual} vs {expected} (terms' magnitude {magnitude})");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(CpuBackendTests.Isas), MemberType = typeof(CpuBackendTests))]
    public void BackendProductsOverPackedPartsMatchThePlainBf16Ones(CpuIsa isa)
    {
        using var backend = new CpuBackend(threads: 2, isa);
        var random = new Random();
        using var factory = new RandomMatrixFactory(random);
        var owned = new List<IDisposable>();
        try
        {
            for (int trial = 0; trial < 10; trial++)
            {
                int k = 64 * random.Next(1, 10);
                int tokens = random.Next(2) == 0 ? 1 : random.Next(2, 12);
                int[] rowsPerPart = Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(1, 200)).ToArray();
                var plainParts = new List<MatrixPart>();
                var mixedParts = new List<MatrixPart>();
                foreach (int rows in rowsPerPart)
                {
                    var plain = factory.Part(WeightDtype.BF16, rows, k, out _);
                    plainParts.Add(plain);
                    if (random.Next(3) == 0)
                    {
                        mixedParts.Add(plain);
                        continue;
                    }
                    var packed = PackedBf16Rows.Pack(plain);
                    owned.Add(packed);
                    mixedParts.Add(new MatrixPart(packed));
                }
                int n = rowsPerPart.Sum();
                using var plainMatrix = backend.UploadMatrix(new HostMatrix("plain", plainParts));
                using var mixedMatrix = backend.UploadMatrix(new HostMatrix("packed", mixedParts));
                var x = factory.Vector(tokens * k);
                using var input = backend.AllocateTensor(tokens, k);
                using var expected = backend.AllocateTensor(tokens, n);
                using var actual = backend.AllocateTensor(tokens, n);
                backend.Upload(x, input.All);
                backend.MatMul(plainMatrix, input.All, expected.All, null, accumulate: false);
                backend.MatMul(mixedMatrix, input.All, actual.All, null, accumulate: false);
                var e = new float[tokens * n];
                var a = new float[tokens * n];
                backend.Download(expected.All, e);
                backend.Download(actual.All, a);
                for (int i = 0; i < e.Length; i++)
                    Assert.True(Math.Abs(a[i] - e[i]) <= 1e-5 * (Math.Abs(e[i]) + 1), $"{isa} k {k} tokens {tokens} [{i}]: {a[i]} vs {e[i]}");
            }
        }
        finally
        {
            foreach (var item in owned)
                item.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(GoldenTests.Cases), MemberType = typeof(GoldenTests))]
    public void PackedLoadGivesTheBf16LoadsLogits(string model, string name)
    {
        var golden = Golden.Load(model, name);
        using var bf16 = SaMoeModel.Load(golden.Case.ModelDirectory, SharedBackends.Cpu, format: WeightFormat.Bf16);
        using var packed = SaMoeModel.Load(golden.Case.ModelDirectory, SharedBackends.Cpu, format: WeightFormat.PackedBf16);
        var batch = SequenceFile.Read(golden.Case.SequenceFile, bf16.Config.Speech.HiddenSize);
        var expected = GoldenTests.Logits(bf16, batch);
        var actual = GoldenTests.Logits(packed, batch);
        Assert.Equal(expected.Count, actual.Count);
        for (int p = 0; p < expected.Count; p++)
        {
            double error = Numeric.RelativeL2(actual[p], expected[p].Select(v => (double)v).ToArray());
            Assert.True(error <= 1e-5, $"{model}/{name} position {p}: relative L2 {error:E2} between the packed and the bf16 load");
        }
    }
}
