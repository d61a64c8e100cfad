using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Tests.Gpu.Checks;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Ops;

/// <summary>
/// Convolutions through the CPU backend (im2col, the weight GEMM, the layout copy, in chunks that
/// split the positions unevenly) against a direct double-precision convolution, with fp32 and
/// bf16 weights, on fresh random shapes.
/// </summary>
public sealed class ConvolutionReferenceTests
{
    public static TheoryData<string> Kinds => new(OpChecks.ConvKinds);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MatchesADirectConvolution(string kind)
    {
        using var data = new RandomData(Environment.TickCount ^ kind.GetHashCode());
        using var cpu = new CpuBackend(threads: 2);
        using var weights = new NativeWeights();
        for (int round = 0; round < 4; round++)
        {
            var (spec, outChannels) = OpChecks.RandomConv(data, kind);
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
            using var bias = cpu.UploadVector(biasValues);
            int outputs = outChannels * spec.Positions;
            using var y = cpu.AllocateTensor(1, outputs);
            using var workspace = new ConvWorkspace(cpu, maxColumnFloats: data.Next(1, 4) * 50);
            Convolution.Forward(cpu, weight, bias, view, spec, TensorView.Of(y, outChannels, spec.Positions), workspace);
            var actual = new float[outputs];
            cpu.Download(y.All, actual);

            // The reference reads the input densely as [C, D, H, W], whatever the view's layout.
            var dense = new float[length];
            for (int i = 0; i < length; i++)
                dense[i] = values[view.Layout.OffsetOf(i)];
            var expected = Convolution.Reference(dense, spec, stored.Select(v => (float)v).ToArray(), outChannels, biasValues);
            double error = Numeric.RelativeL2<double>(actual, expected);
            Assert.True(error < 1e-5, $"{kind} {spec} → {outChannels}, {dtype}: relative L2 {error:E2} (seed {data.Seed})");
        }
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

    [Fact]
    public void AKernelLargerThanThePaddedInputIsRefused()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var weights = new NativeWeights();
        using var weight = cpu.UploadMatrix(new HostMatrix("w", [weights.Part(WeightDtype.F32, 2, 5, () => 1f)]));
        using var x = cpu.AllocateTensor(1, 3);
        using var y = cpu.AllocateTensor(1, 2);
        using var workspace = new ConvWorkspace(cpu);
        var spec = ConvSpec.Conv1d(1, 4, 5, stride: 2);
        Assert.Equal(0, spec.OutW);
        var error = Assert.Throws<ArgumentException>(() =>
            Convolution.Forward(cpu, weight, null, TensorView.Of(x, 1, 1, 1, 3), spec, TensorView.Of(y, 2, 1), workspace));
        Assert.Contains("smaller than the kernel", error.Message);
    }
}
