using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Ops.Attention;
using Ellsa.Tests.Gpu.Checks;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Ops;

/// <summary>The CPU backend's cache-free attention against its double-precision definition: GQA, causal and chunk masks, score bias.</summary>
public sealed class AttentionReferenceTests
{
    public static TheoryData<string> Kinds => new(OpChecks.AttentionKinds);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MatchesItsDefinition(string kind)
    {
        using var data = new RandomData(Environment.TickCount ^ kind.GetHashCode());
        using var cpu = new CpuBackend(threads: 2);
        for (int round = 0; round < 6; round++)
        {
            var c = OpChecks.RandomAttention(data, kind);
            int h = c.Spec.Heads, hk = c.Spec.KvHeads;
            var q = data.Values(c.T * h * c.D, scale: 2f);
            var kv = data.Values(c.S * hk * (c.D + c.Dv), scale: 2f);
            var bias = data.Values(h * c.T * c.S, scale: 3f);
            using var tq = HostTensors.Upload(cpu, q);
            using var tkv = HostTensors.Upload(cpu, kv);
            using var tb = HostTensors.Upload(cpu, bias);
            using var ty = cpu.AllocateTensor(1, c.T * h * c.Dv);
            var both = TensorView.Of(tkv, c.S, hk, c.D + c.Dv);
            var (vq, vk, vv, vy) = (TensorView.Of(tq, c.T, h, c.D), both.Slice(2, 0, c.D), both.Slice(2, c.D, c.Dv), TensorView.Of(ty, c.T, h, c.Dv));
            TensorView? vb = c.Bias ? TensorView.Of(tb, h, c.T, c.S) : null;
            cpu.Attention(vq, vk, vv, vy, c.Spec, vb);
            var actual = new float[c.T * h * c.Dv];
            cpu.Download(ty.All, actual);

            var expected = new float[actual.Length];
            PlainAttention.Reference(q, vq.Layout, kv, vk.Layout, kv, vv.Layout, expected, vy.Layout, c.Spec,
                c.Bias ? bias : [], vb?.Layout ?? default);
            double error = Numeric.RelativeL2<float>(actual, expected);
            Assert.True(error < 1e-5, $"{kind} {c}: relative L2 {error:E2} (seed {data.Seed})");
        }
    }

    /// <summary>
    /// Emu3's layout: q, k and v channel-major [C, N] maps seen as [N, 1, C] (keys contiguous along N:
    /// the blocked path, with short last blocks of queries and keys), into a poisoned output.
    /// </summary>
    [Fact]
    public void ChannelMajorMapsMatchTheDefinition()
    {
        using var data = new RandomData(Environment.TickCount);
        using var cpu = new CpuBackend(threads: 2);
        for (int round = 0; round < 4; round++)
        {
            int c = data.Next(1, 40), n = data.Next(2, 150);
            var q = data.Values(c * n, scale: 2f);
            var k = data.Values(c * n, scale: 2f);
            var v = data.Values(c * n, scale: 2f);
            using var tq = HostTensors.Upload(cpu, q);
            using var tk = HostTensors.Upload(cpu, k);
            using var tv = HostTensors.Upload(cpu, v);
            using var ty = HostTensors.Upload(cpu, HostTensors.Poisoned(c * n));
            TensorView Map(DeviceTensor t) => TensorView.Of(t, c, n).Permute(1, 0).Unsqueeze(1);
            var spec = AttentionSpec.Full(1, 1f / MathF.Sqrt(c));
            cpu.Attention(Map(tq), Map(tk), Map(tv), Map(ty), spec, null);
            var actual = HostTensors.Download(cpu, ty);
            var expected = new float[c * n];
            PlainAttention.Reference(q, Map(tq).Layout, k, Map(tk).Layout, v, Map(tv).Layout, expected, Map(ty).Layout, spec, [], default);
            double error = Numeric.RelativeL2<float>(actual, expected);
            Assert.True(error < 1e-5, $"{c} channels × {n} positions: relative L2 {error:E2} (seed {data.Seed})");
        }
    }

    [Fact]
    public void HeadsThatDoNotGroupAreRefused()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var t = cpu.AllocateTensor(1, 64);
        var spec = new AttentionSpec { Heads = 3, KvHeads = 2, Scale = 1 };
        Assert.Throws<ArgumentException>(() => cpu.Attention(TensorView.Of(t, 2, 3, 2), TensorView.Of(t, 2, 2, 2), TensorView.Of(t, 2, 2, 2), TensorView.Of(t, 2, 3, 2), spec, null));
    }
}
