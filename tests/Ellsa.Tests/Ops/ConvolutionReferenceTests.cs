using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Tests.Gpu.Checks;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Ops;

/// <summary>
/// Convolutions through the CPU backend against a direct double-precision convolution, with fp32
/// and bf16 weights, on fresh random shapes: on AVX-512 the implicit GEMM (column tiles packed
/// from the input, bias and residual in the micro-kernel), below it the composed path (im2col in
/// chunks that split the positions unevenly, the weight product, the layout copy). Outputs start
/// poisoned with NaN, so a position or channel left unwritten fails.
/// </summary>
public sealed class ConvolutionReferenceTests
{
    /// <summary>AVX-512 takes the implicit GEMM, AVX2 the composed path.</summary>
    public static TheoryData<string, CpuIsa> Kinds => IsaTheories.Each(OpChecks.ConvKinds, CpuIsa.Avx512, CpuIsa.Avx2);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MatchesADirectConvolution(string kind, CpuIsa isa)
    {
        using var data = new RandomData(Environment.TickCount ^ kind.GetHashCode() ^ (int)isa);
        using var cpu = new CpuBackend(threads: 2, isa);
        using var weights = new NativeWeights();
        for (int round = 0; round < 4; round++)
        {
            var (spec, outChannels) = OpChecks.RandomConv(data, kind);
            Check(cpu, data, weights, spec, outChannels, data.Next(1, 4) * 50, $"{kind} on {isa}");
        }
    }

    /// <summary>
    /// The sizes a network meets, where the implicit GEMM takes several blocks of taps (more than
    /// 256 per position), several chunks of positions, splits the output channels between workers
    /// when the positions are few, and has short last row blocks and tiles.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void MatchesADirectConvolutionAtNetworkSizes(int threads)
    {
        using var data = new RandomData(Environment.TickCount ^ (threads << 8));
        using var cpu = new CpuBackend(threads);
        using var weights = new NativeWeights();
        for (int round = 0; round < 3; round++)
        {
            int c = data.Next(20, 70), o = data.Next(1, 40), h = data.Next(2, 30), w = data.Next(2, 40);
            var spec = data.Next(0, 3) switch
            {
                0 => ConvSpec.Conv2d(c, h, w, 3, padding: 1),
                1 => ConvSpec.Conv2d(c, h, w, 1),
                2 => ConvSpec.Conv3d(c, 1, h + 1, w + 1, (1, 3, 3), (1, 2, 2), (1, 1, 1), (0, 0, 0, 1, 0, 1)),
                _ => ConvSpec.Conv3d(c, data.Next(1, 4), h, w, (3, 3, 3), (1, 1, 1), (1, 1, 1), (2, 0, 1, 1, 1, 1)),
            };
            Check(cpu, data, weights, spec, o, 1 << 16, $"{threads} threads");
        }
    }

    /// <summary>One convolution: a random input view, weight dtype, bias, output layout and residual.</summary>
    private static void Check(CpuBackend cpu, RandomData data, NativeWeights weights, ConvSpec spec, int outChannels, int columnFloats, string what)
    {
        var (length, input) = OpChecks.ConvInput(data, spec);
        var values = data.Values(length);
        using var x = cpu.AllocateTensor(1, length);
        cpu.Upload(values, x.All);
        var view = input(x);

        var stored = new double[outChannels * spec.Taps];
        var dtype = data.Chance() ? WeightDtype.BF16 : WeightDtype.F32;
        using var weight = cpu.UploadMatrix(new HostMatrix("conv.weight",
            [weights.Part(dtype, outChannels, spec.Taps, () => (float)(data.Random.NextDouble() - 0.5), stored)]));
        var biasValues = data.Values(outChannels);
        bool withBias = data.Chance(0.7);
        using var bias = cpu.UploadVector(biasValues);

        // Output rows dense, padded (a row stride beyond the positions), or transposed (positions strided: the composed path).
        int positions = spec.Positions, layout = data.Next(0, 2), pad = layout == 1 ? data.Next(1, 5) : 0;
        int outputs = outChannels * (positions + pad);
        using var y = cpu.AllocateTensor(1, outputs);
        cpu.Upload(HostTensors.Poisoned(outputs), y.All);
        var output = layout == 2
            ? TensorView.Of(y, positions, outChannels).Permute(1, 0)
            : TensorView.Of(y, outChannels, positions + pad).Slice(1, 0, positions);

        bool withResidual = data.Chance();
        var residualValues = data.Values(outputs);
        using var r = cpu.AllocateTensor(1, outputs);
        cpu.Upload(residualValues, r.All);
        TensorView? residual = withResidual ? new TensorView(r, output.Layout) : null;

        using var workspace = new ConvWorkspace(cpu, maxColumnFloats: columnFloats);
        cpu.Convolve(weight, withBias ? bias : null, view, spec, output, residual, workspace);
        var all = new float[outputs];
        cpu.Download(y.All, all);

        // The reference reads the input densely as [C, D, H, W], whatever the view's layout.
        var dense = new float[length];
        for (int i = 0; i < length; i++)
            dense[i] = values[view.Layout.OffsetOf(i)];
        var expected = Convolution.Reference(dense, spec, stored.Select(v => (float)v).ToArray(), outChannels, withBias ? biasValues : []);
        var actual = new float[expected.Length];
        for (int i = 0; i < expected.Length; i++)
        {
            int at = output.Layout.OffsetOf(i);
            actual[i] = all[at];
            if (residual is { } added)
                expected[i] += residualValues[added.Layout.OffsetOf(i)];
        }
        double error = Numeric.RelativeL2<double>(actual, expected);
        Assert.True(error < 1e-5,
            $"{what}: {spec} → {outChannels}, {dtype}, bias {withBias}, output layout {layout}, residual {withResidual}: relative L2 {error:E2} (seed {data.Seed})");
    }

    /// <summary>The random shapes the checks draw are valid convolutions for every seed (a draw that overhangs would fail a run at random).</summary>
    [Fact]
    public void EveryRandomDrawIsAValidConvolution()
    {
        using var data = new RandomData(Environment.TickCount);
        foreach (string kind in OpChecks.ConvKinds)
        {
            for (int i = 0; i < 5000; i++)
            {
                var (spec, _) = OpChecks.RandomConv(data, kind);
                Assert.True(spec.OutD >= 1 && spec.OutH >= 1 && spec.OutW >= 1, $"{kind}: {spec}");
            }
        }
    }

    /// <summary>A kernel that overhangs the padded input, a residual of another shape, a residual in the output's tensor.</summary>
    [Fact]
    public void BadRequestsAreRefusedNamingTheProblem()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var weights = new NativeWeights();
        using var wide = cpu.UploadMatrix(new HostMatrix("w", [weights.Part(WeightDtype.F32, 2, 5, () => 1f)]));
        using var narrow = cpu.UploadMatrix(new HostMatrix("w", [weights.Part(WeightDtype.F32, 2, 3, () => 1f)]));
        using var x = cpu.AllocateTensor(1, 4);
        using var y = cpu.AllocateTensor(1, 4);
        using var workspace = new ConvWorkspace(cpu);
        var overhang = ConvSpec.Conv1d(1, 4, 5, stride: 2);
        Assert.Equal(0, overhang.OutW);
        var input = TensorView.Of(x, 1, 1, 1, 4);
        var output = TensorView.Of(y, 2, 2);
        var error = Assert.Throws<ArgumentException>(() => cpu.Convolve(wide, null, input, overhang, TensorView.Of(y, 2, 1), null, workspace));
        Assert.Contains("smaller than the kernel", error.Message);
        var spec = ConvSpec.Conv1d(1, 4, 3);
        error = Assert.Throws<ArgumentException>(() => cpu.Convolve(narrow, null, input, spec, output, TensorView.Of(x, 4, 1), workspace));
        Assert.Contains("residual view [4, 1] is not", error.Message);
        error = Assert.Throws<ArgumentException>(() => cpu.Convolve(narrow, null, input, spec, output, output, workspace));
        Assert.Contains("give it its own", error.Message);
    }
}
