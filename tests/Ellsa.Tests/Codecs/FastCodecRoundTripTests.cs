using Ellsa.Runtime.Codecs.Fast;
using Xunit;

namespace Ellsa.Tests.Codecs;

/// <summary>Properties on fresh random input every run (the seed is printed on failure).</summary>
public class FastCodecRoundTripTests
{
    public static TheoryData<string> Goldens => new() { "libero.json", "tiny.json" };

    /// <summary>Rounding at scale s moves each coefficient by at most 0.5/s; the transform is
    /// orthonormal, so the chunk moves by at most 0.5/s·√(T·D) in L2 (plus float32 output).</summary>
    [Theory]
    [MemberData(nameof(Goldens))]
    public void DecodeOfEncodeIsWithinQuantisation(string name)
    {
        var (codec, _) = FastCodecGoldenTests.Load(name);
        int seed = RandomText.FreshSeed();
        var random = new Random(seed);
        double bound = 0.5 / codec.Scale * Math.Sqrt(codec.TimeHorizon * codec.ActionDim) + 1e-5;
        for (int i = 0; i < 200; i++)
        {
            var chunk = i % 2 == 0
                ? RandomChunks.Smooth(random, codec.TimeHorizon, codec.ActionDim)
                : RandomChunks.Rough(random, codec.TimeHorizon, codec.ActionDim);
            var result = codec.Decode(codec.Encode(chunk));
            Assert.True(!result.IsSafeFallback, $"seed {seed}, chunk {i}: {string.Join("; ", result.Problems)}");
            double error = L2(chunk, result.Normalized);
            Assert.True(error <= bound, $"seed {seed}, chunk {i}: L2 error {error} > {bound}");
        }
    }

    [Fact]
    public void OtherChunkShapesRoundTrip()
    {
        int seed = RandomText.FreshSeed();
        var random = new Random(seed);
        foreach (var (t, d) in new[] { (8, 7), (16, 7), (10, 4) })
        {
            var codec = FastActionCodec.Load(CodecPaths.TinyFast, new FastCodecOptions { TimeHorizon = t, ActionDim = d });
            Assert.Equal((t, d), (codec.TimeHorizon, codec.ActionDim));
            double bound = 0.5 / codec.Scale * Math.Sqrt(t * d) + 1e-5;
            for (int i = 0; i < 40; i++)
            {
                var chunk = RandomChunks.Rough(random, t, d);
                var result = codec.Decode(codec.Encode(chunk));
                Assert.False(result.IsSafeFallback, $"seed {seed}: {string.Join("; ", result.Problems)}");
                Assert.True(L2(chunk, result.Normalized) <= bound, $"seed {seed}, {t}x{d}");
                Assert.Null(result.Actions);
            }
        }
    }

    /// <summary>Any id sequence decodes to something bounded: the safe chunk, or coefficients
    /// within ±MaxAbsCoefficient, whose inverse DCT is at most MaxAbs/scale·√T per value.</summary>
    [Theory]
    [MemberData(nameof(Goldens))]
    public void RandomIdsNeverGiveHugeActions(string name)
    {
        var (codec, _) = FastCodecGoldenTests.Load(name);
        int seed = RandomText.FreshSeed();
        var random = new Random(seed);
        double bound = codec.MaxAbsCoefficient / codec.Scale * Math.Sqrt(codec.TimeHorizon) + 1e-5;
        int accepted = 0;
        for (int i = 0; i < 2000; i++)
        {
            var ids = new int[random.Next(0, 40)];
            for (int k = 0; k < ids.Length; k++)
            {
                // Mostly real ids; sometimes one just outside the vocabulary.
                ids[k] = random.Next(50) == 0 ? codec.VocabSize + random.Next(-1, 2) * (codec.VocabSize + 1) : random.Next(codec.VocabSize);
            }
            var result = codec.Decode(ids);
            accepted += result.IsSafeFallback ? 0 : 1;
            foreach (float v in result.Normalized)
            {
                if (!(float.IsFinite(v) && Math.Abs(v) <= bound))
                {
                    Assert.Fail($"seed {seed}, ids [{string.Join(",", ids)}]: {v} beyond {bound}");
                }
            }
        }
        Assert.True(accepted < 2000);
    }

    [Fact]
    public void WithoutNormStatsTheSafeChunkIsZeros()
    {
        var codec = FastActionCodec.Load(CodecPaths.TinyFast);
        Assert.False(codec.HasNormStats);
        var result = codec.Decode([codec.VocabSize]);
        Assert.True(result.IsSafeFallback);
        Assert.Null(result.Actions);
        Assert.All(result.Normalized.Cast<float>(), v => Assert.Equal(0f, v));
        Assert.Contains("no-op ids need norm stats", Assert.Throws<InvalidOperationException>(() => codec.NoOpIds).Message);
        Assert.Throws<InvalidOperationException>(() => codec.EncodeEnvActions(new float[10, 7]));
    }

    [Fact]
    public void SafeChunkIsNotSharedBetweenResults()
    {
        var (codec, _) = FastCodecGoldenTests.Load("tiny.json");
        var first = codec.Decode([]);
        first.Normalized[0, 0] = 123f;
        first.Actions![0, 0] = 123f;
        var second = codec.Decode([]);
        Assert.NotEqual(123f, second.Normalized[0, 0]);
        Assert.Equal(0f, second.Actions![0, 0]);
    }

    private static double L2(float[,] a, float[,] b)
    {
        double sum = 0;
        for (int t = 0; t < a.GetLength(0); t++)
        {
            for (int d = 0; d < a.GetLength(1); d++)
            {
                double e = (double)a[t, d] - b[t, d];
                sum += e * e;
            }
        }
        return Math.Sqrt(sum);
    }
}
