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

    /// <summary>
    /// Zipformer's layout: queries, keys and values are column blocks of one row-major window
    /// (channels contiguous: the row path, keys turned for the score tile, 8 × 32 value tiles),
    /// with more queries than a block, value widths across several 32-channel tiles (NonlinAttention's
    /// one 960-wide head among them at a smaller size), the chunk mask from a query offset, and the
    /// positional bias as the strided view RelativePositionScores hands over; the output is poisoned.
    /// </summary>
    [Fact]
    public void ZipformerWindowRowsMatchTheDefinition()
    {
        using var data = new RandomData(Environment.TickCount);
        using var cpu = new CpuBackend(threads: 2);
        for (int round = 0; round < 5; round++)
        {
            int heads = data.Next(1, 4), d = data.Next(1, 40), dv = data.Next(1, 100), chunk = data.Next(1, 9);
            int history = chunk * data.Next(0, 5), t = data.Next(1, 70), s = history + t;
            int cols = heads * (2 * d + dv) + data.Next(0, 3);
            var window = data.Values(s * cols, scale: 1.5f);
            using var tw = HostTensors.Upload(cpu, window);
            using var ty = HostTensors.Upload(cpu, HostTensors.Poisoned(t * heads * dv));
            TensorView Heads(int row, int rows, int col, int dim)
            {
                var layout = new ViewLayout { Rank = 3, Offset = row * cols + col };
                layout.Set(0, rows, cols);
                layout.Set(1, heads, dim);
                layout.Set(2, dim, 1);
                return new TensorView(tw, layout);
            }
            var (vq, vk, vv) = (Heads(history, t, 0, d), Heads(0, s, heads * d, d), Heads(0, s, 2 * heads * d, dv));
            // A [heads, queries, keys] window onto per-query rows of offsets (RelativePositionScores.Bias).
            int offsets = s + t, width = heads * offsets;
            var table = data.Values(t * width, scale: 2f);
            using var tb = HostTensors.Upload(cpu, table);
            var biasLayout = new ViewLayout { Rank = 3, Offset = t - 1 };
            biasLayout.Set(0, heads, offsets);
            biasLayout.Set(1, t, width - 1);
            biasLayout.Set(2, s, 1);
            var vb = new TensorView(tb, biasLayout);
            var spec = new AttentionSpec
            {
                Heads = heads, KvHeads = heads, Scale = 1f, Mask = AttentionMask.Chunk, ChunkSize = chunk, LeftChunks = data.Next(0, 4),
                QueryOffset = history, MaskedScore = -1000f,
            };
            var vy = TensorView.Of(ty, t, heads, dv);
            cpu.Attention(vq, vk, vv, vy, spec, vb);
            var actual = HostTensors.Download(cpu, ty);
            var expected = new float[actual.Length];
            PlainAttention.Reference(window, vq.Layout, window, vk.Layout, window, vv.Layout, expected, vy.Layout, spec, table, biasLayout);
            double error = Numeric.RelativeL2<float>(actual, expected);
            Assert.True(error < 1e-5, $"{heads} heads, d {d}, dv {dv}, {t} queries over {s} keys, chunk {chunk}: relative L2 {error:E2} (seed {data.Seed})");
        }
    }

    [Fact]
    public void EachMaskShowsAQueryOneRunOfKeys()
    {
        var random = new Random(Environment.TickCount);
        for (int round = 0; round < 2000; round++)
        {
            var spec = new AttentionSpec
            {
                Mask = (AttentionMask)random.Next(3), ChunkSize = random.Next(1, 9), LeftChunks = random.Next(-1, 5), QueryOffset = random.Next(-10, 30),
            };
            int t = random.Next(0, 40), keys = random.Next(0, 60);
            var (first, end) = spec.VisibleKeys(t, keys);
            for (int j = 0; j < keys; j++)
                Assert.True(spec.Visible(t, j) == (j >= first && j < end), $"{spec.Mask} chunk {spec.ChunkSize} left {spec.LeftChunks} offset {spec.QueryOffset}: query {t}, key {j} of {keys}, run [{first}, {end})");
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
