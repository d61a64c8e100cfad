using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Norms;
using Ellsa.Tests.Gpu.Checks;
using Xunit;

namespace Ellsa.Tests.Ops;

/// <summary>
/// The CPU backend's normalisations against their double-precision definitions, on fresh random
/// strided rows into poisoned outputs, alone or followed by SiLU in the same pass: the vectorised
/// loops (wide rows, with tails) and the scalar ones (the scalar ISA level).
/// </summary>
public sealed class NormalizationReferenceTests
{
    /// <summary>The statistics run 16 floats at a time on AVX-512, at System.Numerics.Vector's width on AVX2, and scalar.</summary>
    public static TheoryData<string, CpuIsa> Kinds => IsaTheories.Each(OpChecks.NormKinds, CpuIsa.Avx512, CpuIsa.Avx2, CpuIsa.Scalar);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MatchesItsDefinition(string kind, CpuIsa isa)
    {
        using var data = new RandomData(Environment.TickCount ^ kind.GetHashCode() ^ (int)isa);
        using var cpu = new CpuBackend(threads: 2, isa);
        for (int round = 0; round < 8; round++)
        {
            // Every other round at the image tokenizer's scale: channels of hundreds of elements, rows past the 4096-element blocks.
            var c = OpChecks.RandomNorm(data, kind, wide: round % 2 == 1);
            bool silu = data.Chance();
            var x = data.Values(c.Length, scale: 2f, center: 0.3f);
            var w = data.Values(c.Parameters, scale: 0.5f, center: 1f);
            var b = data.Values(c.Parameters, scale: 0.5f);
            var poisoned = HostTensors.Poisoned(c.Length);
            using var xt = HostTensors.Upload(cpu, x);
            using var yt = HostTensors.Upload(cpu, poisoned);
            using var wt = HostTensors.Upload(cpu, w);
            using var bt = HostTensors.Upload(cpu, b);
            TensorView Rows(DeviceTensor t) => TensorView.At(t, c.Offset, c.Rows, c.RowStride).Slice(1, 0, c.Width);
            TensorView? weight = c.Weight ? TensorView.Of(wt, c.Parameters) : null, bias = c.Bias ? TensorView.Of(bt, c.Parameters) : null;
            if (silu)
                cpu.Normalize(Rows(xt), Rows(yt), c.Spec, weight, bias, new Silu());
            else
                cpu.Normalize(Rows(xt), Rows(yt), c.Spec, weight, bias);
            var actual = new float[c.Length];
            cpu.Download(yt.All, actual);

            var expected = (float[])poisoned.Clone();
            if (silu)
                Normalization.Reference(x.AsSpan(c.Offset), c.RowStride, expected.AsSpan(c.Offset), c.RowStride, c.Rows, c.Width, c.Spec,
                    c.Weight ? w : [], c.Bias ? b : [], new Silu());
            else
                Normalization.Reference(x.AsSpan(c.Offset), c.RowStride, expected.AsSpan(c.Offset), c.RowStride, c.Rows, c.Width, c.Spec,
                    c.Weight ? w : [], c.Bias ? b : []);
            for (int i = 0; i < c.Length; i++)
            {
                Assert.True(float.IsNaN(expected[i]) == float.IsNaN(actual[i]), $"{c}, SiLU {silu}: element {i} is {actual[i]}, expected {expected[i]}");
                if (!float.IsNaN(expected[i]))
                    Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"{c}, SiLU {silu}: element {i} is {actual[i]}, expected {expected[i]}");
            }
        }
    }

    [Fact]
    public void MismatchedParametersAreRefusedWithTheirSizes()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var t = cpu.AllocateTensor(4, 6);
        using var p = cpu.AllocateTensor(1, 5);
        var rows = TensorView.Of(t, 4, 6);
        var error = Assert.Throws<ArgumentException>(() => cpu.Normalize(rows, rows, NormSpec.LayerNorm(1e-5f), TensorView.Of(p, 5), null));
        Assert.Contains("for 6 channels", error.Message);
        Assert.Throws<ArgumentException>(() => cpu.Normalize(rows, rows, NormSpec.GroupNorm(3, 2, 1e-6f), null, null));
    }
}
