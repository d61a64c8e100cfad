using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Numerics;
using Ellsa.Tests.Gpu.Checks;
using Ellsa.Tests.Kernels;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Q8;

/// <summary>
/// The Q8 format and the CPU's int8 products on fresh random shapes and values every run: the
/// quantiser against the Q8_0 rule, every instruction path this machine has against a scalar
/// double-precision sum of the same integers and scales, and the backend's product end to end.
/// </summary>
public sealed unsafe class Q8KernelTests
{
    /// <summary>The paths this machine can run, by name (the enum is internal to the kernels).</summary>
    public static TheoryData<string> Paths()
    {
        var data = new TheoryData<string>();
        foreach (var path in Enum.GetValues<Q8Path>())
        {
            if (Q8Paths.IsSupported(path))
                data.Add(path.ToString());
        }
        return data;
    }

    [Fact]
    public void QuantizedRowsFollowTheQ8Rule()
    {
        var random = new Random();
        for (int trial = 0; trial < 50; trial++)
        {
            int cols = random.Next(1, 200);
            var x = Enumerable.Range(0, cols).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 3)))).ToArray();
            if (cols > 40)
                Array.Clear(x, 0, 32); // a block of zeros has scale 0 and zeros
            var q = new sbyte[cols];
            var s = new ushort[Q8Format.BlocksPerRow(cols)];
            Q8Format.QuantizeRow(x, q, s);
            for (int b = 0; b < s.Length; b++)
            {
                int start = b * 32, end = Math.Min(cols, start + 32);
                double max = 0;
                for (int i = start; i < end; i++)
                    max = Math.Max(max, Math.Abs(x[i]));
                double d = max / 127;
                Assert.Equal((double)(Half)(float)d, Q8Format.HalfToSingle(s[b]), 12);
                for (int i = start; i < end; i++)
                {
                    Assert.InRange(q[i], -127, 127);
                    // q = round(x / d): within half a step (plus the fp32 product's rounding) of x / d.
                    if (d > 0)
                        Assert.True(Math.Abs(q[i] - x[i] / d) <= 0.5 + 1e-4, $"cols {cols} block {b}: x {x[i]} d {d} q {q[i]}");
                    else
                        Assert.Equal(0, q[i]);
                    if (Math.Abs(x[i]) == max && d > 0)
                        Assert.Equal(127, Math.Abs((int)q[i]));
                }
            }
        }
    }

    [Fact]
    public void QuantizedActivationsFollowTheQ8RuleWithFp32Scales()
    {
        var random = new Random();
        using var activations = new Q8Activations();
        for (int trial = 0; trial < 20; trial++)
        {
            int rows = random.Next(1, 5), cols = random.Next(1, 150);
            var x = Enumerable.Range(0, rows * cols).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
            fixed (float* px = x)
                activations.Quantize(px, rows, cols, cols);
            for (int r = 0; r < rows; r++)
            {
                for (int i = 0; i < activations.Stride; i++)
                {
                    int q = activations.Quants(r)[i];
                    Assert.Equal(Math.Abs(q), activations.Magnitudes(r)[i]);
                    Assert.Equal(q < 0 ? -1 : 0, activations.SignMasks(r)[i]);
                    if (i >= cols)
                    {
                        Assert.Equal(0, q);
                        continue;
                    }
                    double d = activations.Scales(r)[i / 32];
                    double max = x.Skip(r * cols + i / 32 * 32).Take(Math.Min(32, cols - i / 32 * 32)).Max(v => Math.Abs(v));
                    Assert.Equal(max / 127, d, 1e-6 * max);
                    Assert.True(Math.Abs(q - x[r * cols + i] / d) <= 0.5 + 1e-4);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void EveryPathMatchesTheScalarSumOfTheSameIntegers(string pathName)
    {
        var path = Enum.Parse<Q8Path>(pathName);
        var random = new Random();
        using var activations = new Q8Activations();
        int[] widths = [1, 7, 31, 32, 33, 64, 96, 100, 136, 256, 288, 513, 1000];
        for (int trial = 0; trial < 40; trial++)
        {
            int cols = widths[random.Next(widths.Length)];
            int blocks = Q8Format.BlocksPerRow(cols);
            var w = new sbyte[4 * cols];
            var s = new ushort[4 * blocks];
            var source = Enumerable.Range(0, 4 * cols).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            for (int r = 0; r < 4; r++)
                Q8Format.QuantizeRow(source.AsSpan(r * cols, cols), w.AsSpan(r * cols, cols), s.AsSpan(r * blocks, blocks));
            var x = Enumerable.Range(0, 2 * cols).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();
            fixed (float* px = x)
                activations.Quantize(px, 2, cols, cols);
            int xRow = random.Next(2);

            var combined = new float[blocks];
            var result = new float[4];
            fixed (sbyte* pw = w)
            fixed (ushort* ps = s)
            fixed (float* pc = combined)
            {
                for (int r = 0; r < 4; r++)
                    result[r] = Q8DotKernels.Row(path, pw + r * cols, ps + r * blocks, activations, xRow, pc);
            }

            for (int r = 0; r < 4; r++)
            {
                double expected = 0, magnitude = 0;
                for (int b = 0; b < blocks; b++)
                {
                    long dot = 0, absolute = 0;
                    for (int i = b * 32; i < Math.Min(cols, b * 32 + 32); i++)
                    {
                        dot += w[r * cols + i] * (long)activations.Quants(xRow)[i];
                        absolute += Math.Abs(w[r * cols + i] * (long)activations.Quants(xRow)[i]);
                    }
                    double scale = (double)Q8Format.HalfToSingle(s[r * blocks + b]) * activations.Scales(xRow)[b];
                    expected += dot * scale;
                    // The vector paths sum a block's lanes in fp32 after scaling, so their error follows the
                    // products' magnitudes, not the block's (possibly cancelling) total.
                    magnitude += absolute * Math.Abs(scale);
                }
                Assert.True(Math.Abs(result[r] - expected) <= 1e-5 * magnitude + 1e-30,
                    $"{path} cols {cols} row {r}: {result[r]} vs {expected} (terms' magnitude {magnitude})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(CpuBackendTests.Isas), MemberType = typeof(CpuBackendTests))]
    public void BackendProductOfQ8WeightsMatchesTheDequantisedProduct(CpuIsa isa)
    {
        using var backend = new CpuBackend(threads: 2, isa);
        var random = new Random();
        using var weights = new Q8TestWeights();
        using var activations = new Q8Activations();
        int[] widths = [5, 32, 33, 64, 100, 136, 257, 600];
        for (int trial = 0; trial < 16; trial++)
        {
            int k = widths[random.Next(widths.Length)];
            int tokens = random.Next(3) == 0 ? 1 : random.Next(2, 20);
            var rowsPerPart = Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(1, 300)).ToArray();
            var host = weights.Matrix("q8", rowsPerPart, k, random, out var dequantised, out var original);
            int n = host.Rows;
            bool useBias = random.Next(2) == 0, accumulate = random.Next(2) == 0;
            var x = Enumerable.Range(0, tokens * k).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            var bias = Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
            var initial = Enumerable.Range(0, tokens * n).Select(_ => (float)random.NextDouble()).ToArray();

            using var matrix = backend.UploadMatrix(host);
            using var input = backend.AllocateTensor(tokens, k);
            using var output = backend.AllocateTensor(tokens, n);
            using var biasVector = backend.UploadVector(bias);
            backend.Upload(x, input.All);
            backend.Upload(initial, output.All);
            backend.MatMul(matrix, input.All, output.All, useBias ? biasVector : null, accumulate);
            var actual = new float[tokens * n];
            backend.Download(output.All, actual);

            fixed (float* px = x)
                activations.Quantize(px, tokens, k, k);
            for (int t = 0; t < tokens; t++)
            {
                for (int r = 0; r < n; r++)
                {
                    double exact = 0, magnitude = 0, unquantised = 0, roundings = 0;
                    for (int i = 0; i < k; i++)
                    {
                        double xq = activations.Quants(t)[i] * (double)activations.Scales(t)[i / 32];
                        double term = dequantised[(long)r * k + i] * xq;
                        exact += term;
                        magnitude += Math.Abs(term);
                        double w = original[(long)r * k + i];
                        unquantised += w * x[t * k + i];
                        // Each rounding moves a value by at most half its block's step (the weight's
                        // step grows by the fp16 rounding of its scale: 127 · 2^-11 of a step).
                        double wStep = 0;
                        for (int j = i / 32 * 32; j < Math.Min(k, i / 32 * 32 + 32); j++)
                            wStep = Math.Max(wStep, Math.Abs(original[(long)r * k + j]) / 127);
                        roundings += Math.Abs(w) * 0.5001 * activations.Scales(t)[i / 32] + Math.Abs(xq) * 0.57 * wStep;
                    }
                    double extra = (useBias ? bias[r] : 0) + (accumulate ? initial[t * n + r] : 0);
                    float value = actual[t * n + r];
                    Assert.True(Math.Abs(value - (exact + extra)) <= 1e-5 * (magnitude + Math.Abs(extra)) + 1e-6,
                        $"{isa} k {k} token {t} row {r}: {value} vs {exact + extra}");
                    Assert.True(Math.Abs(value - (unquantised + extra)) <= roundings + 1e-5 * (magnitude + Math.Abs(extra)) + 1e-6,
                        $"{isa} k {k} token {t} row {r}: {value} vs unquantised {unquantised + extra}");
                }
            }
        }
    }
}
