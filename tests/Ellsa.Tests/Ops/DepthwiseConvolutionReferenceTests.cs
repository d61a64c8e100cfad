using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Kernels.Ops.Depthwise;
using Ellsa.Tests.Gpu.Checks;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Ops;

/// <summary>
/// The CPU backend's depthwise convolution (its vectorised channel-last path and its per-element
/// path) against the double-precision definition, on fresh random shapes and layouts, outputs
/// poisoned with NaN first so an element left unwritten fails.
/// </summary>
public sealed class DepthwiseConvolutionReferenceTests
{
    public static TheoryData<string> Kinds => new(OpChecks.DepthwiseKinds);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MatchesItsDefinition(string kind)
    {
        using var data = new RandomData(Environment.TickCount ^ kind.GetHashCode());
        using var cpu = new CpuBackend(threads: 2);
        for (int round = 0; round < 8; round++)
        {
            var c = OpChecks.RandomDepthwise(data, kind);
            var input = data.Values(c.InputLength, scale: 2f);
            var weight = data.Values(c.WeightLength);
            var bias = data.Values(c.Spec.Channels);
            using var tx = HostTensors.Upload(cpu, input);
            using var tw = HostTensors.Upload(cpu, weight);
            using var tb = HostTensors.Upload(cpu, bias);
            using var ty = HostTensors.Upload(cpu, HostTensors.Poisoned(c.OutputLength));
            TensorView? vb = c.Bias ? TensorView.Of(tb, c.Spec.Channels) : null;
            var (vx, vw, vy) = (c.Input(tx), c.Weight(tw), c.Output(ty));
            cpu.DepthwiseConv(vx, c.Spec, vw, vb, vy);
            var actual = HostTensors.Download(cpu, ty);

            var expected = HostTensors.Poisoned(c.OutputLength);
            DepthwiseConvolution.Reference(input, vx.Layout, c.Spec, weight, vw.Layout, c.Bias ? bias : [], vb?.Layout ?? default, expected, vy.Layout);
            Assert.DoesNotContain(actual, float.IsNaN);
            double error = Numeric.RelativeL2<float>(actual, expected);
            Assert.True(error < 1e-5, $"{c}: relative L2 {error:E2} (seed {data.Seed})");
        }
    }

    /// <summary>The definition itself on a case worked by hand: a causal 3-tap filter with zero padding in front.</summary>
    [Fact]
    public void ReferenceGivesAHandWorkedCausalFilter()
    {
        var spec = ConvSpec.Conv1d(1, 4, 3, padBefore: 2);
        float[] x = [1, 2, 3, 4], w = [0.5f, -1, 2], y = new float[4];
        var li = new ViewLayout { Rank = 4 };
        li.Set(0, 1, 4); li.Set(1, 1, 4); li.Set(2, 1, 4); li.Set(3, 4, 1);
        var lw = new ViewLayout { Rank = 2 };
        lw.Set(0, 1, 3); lw.Set(1, 3, 1);
        var lo = new ViewLayout { Rank = 2 };
        lo.Set(0, 1, 4); lo.Set(1, 4, 1);
        DepthwiseConvolution.Reference(x, li, spec, w, lw, [], default, y, lo);
        // y[t] = 0.5·x[t−2] − x[t−1] + 2·x[t]
        Assert.Equal([2f, 3f, 4.5f, 6f], y);
    }

    [Fact]
    public void AWeightOfTheWrongWidthIsRefused()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var t = cpu.AllocateTensor(1, 64);
        var spec = ConvSpec.Conv1d(2, 8, 3);
        var error = Assert.Throws<ArgumentException>(() =>
            cpu.DepthwiseConv(TensorView.Of(t, 2, 1, 1, 8), spec, TensorView.Of(t, 2, 4), null, TensorView.At(t, 16, 2, 6)));
        Assert.Contains("weight view", error.Message);
    }
}
