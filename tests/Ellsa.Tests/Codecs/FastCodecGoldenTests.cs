using System.Text.Json;
using Ellsa.Runtime.Codecs.Fast;
using Xunit;

namespace Ellsa.Tests.Codecs;

/// <summary>The codec against tests/reference/fast_codec_ref.py (scipy DCT + pure-Python BPE) on
/// the released LIBERO assets and on the tiny ones.</summary>
public class FastCodecGoldenTests
{
    private const double Tolerance = 1e-6;

    public static TheoryData<string> Goldens => new() { "libero.json", "tiny.json" };

    [Fact]
    public void LiberoNoOpIdsAreTheProtocolsSequence()
    {
        var (codec, golden) = Load("libero.json");
        // 02-protocol.md §3.6 derived these by hand; the golden's script checks them too.
        Assert.Equal(new[] { 482, 1168, 295, 439, 261, 827 }, codec.NoOpIds.ToArray());
        Assert.Equal(golden.GetProperty("noop").GetProperty("ids").Ints(), codec.NoOpIds.ToArray());
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void NoOpMatchesReference(string name)
    {
        var (codec, golden) = Load(name);
        var noop = golden.GetProperty("noop");
        Assert.Equal(noop.GetProperty("ids").Ints(), codec.NoOpIds.ToArray());
        var decoded = codec.Decode(codec.NoOpIds.AsSpan());
        Assert.False(decoded.IsSafeFallback, string.Join("; ", decoded.Problems));
        AssertClose(noop.GetProperty("decoded_normalized").Matrix(), decoded.Normalized);
        AssertClose(noop.GetProperty("decoded_actions").Matrix(), decoded.Actions!);
        AssertClose(noop.GetProperty("normalized").Matrix(), codec.Normalize(EnvNoOp(codec)));
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void EncodeGivesReferenceIds(string name)
    {
        var (codec, golden) = Load(name);
        int count = 0;
        foreach (var chunk in golden.GetProperty("chunks").EnumerateArray())
        {
            Assert.Equal(chunk.GetProperty("ids").Ints(), codec.Encode(chunk.GetProperty("normalized").FloatMatrix()));
            count++;
        }
        Assert.Equal(20, count);
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void DecodeMatchesReference(string name)
    {
        var (codec, golden) = Load(name);
        foreach (var chunk in golden.GetProperty("chunks").EnumerateArray())
        {
            var result = codec.Decode(chunk.GetProperty("ids").Ints());
            Assert.Empty(result.Problems);
            Assert.Equal(codec.TimeHorizon * codec.ActionDim, result.CoefficientCount);
            AssertClose(chunk.GetProperty("decoded_normalized").Matrix(), result.Normalized);
            AssertClose(chunk.GetProperty("decoded_actions").Matrix(), result.Actions!);
        }
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void EnvUnitEncodeMatchesReference(string name)
    {
        var (codec, golden) = Load(name);
        foreach (var chunk in golden.GetProperty("env_chunks").EnumerateArray())
        {
            Assert.Equal(chunk.GetProperty("ids").Ints(), codec.EncodeEnvActions(chunk.GetProperty("actions").FloatMatrix()));
        }
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void CoefficientBoundAndPaddingMatchReference(string name)
    {
        var (codec, golden) = Load(name);
        Assert.Equal(golden.GetProperty("max_abs_coefficient").GetInt32(), codec.MaxAbsCoefficient);
        foreach (var c in golden.GetProperty("coefficient_cases").EnumerateArray())
        {
            var result = codec.Decode(c.GetProperty("ids").Ints());
            string label = c.GetProperty("name").GetString()!;
            Assert.True(c.GetProperty("safe").GetBoolean() == result.IsSafeFallback, $"{label}: {string.Join("; ", result.Problems)}");
            Assert.Equal(c.GetProperty("q").GetArrayLength(), result.CoefficientCount);
            AssertClose(c.GetProperty("normalized").Matrix(), result.Normalized);
            AssertClose(c.GetProperty("actions").Matrix(), result.Actions!);
        }
    }

    [Theory]
    [MemberData(nameof(Goldens))]
    public void MalformedIdsGiveTheSafeChunk(string name)
    {
        var (codec, golden) = Load(name);
        var safe = golden.GetProperty("safe");
        int count = 0;
        foreach (var m in golden.GetProperty("malformed").EnumerateArray())
        {
            var result = codec.Decode(m.GetProperty("ids").Ints());
            Assert.True(result.IsSafeFallback, m.GetProperty("name").GetString());
            Assert.NotEmpty(result.Problems);
            AssertClose(safe.GetProperty("normalized").Matrix(), result.Normalized);
            for (int t = 0; t < codec.TimeHorizon; t++)
            {
                for (int d = 0; d < codec.ActionDim; d++)
                {
                    Assert.Equal(d == codec.ActionDim - 1 ? -1f : 0f, result.Actions![t, d]);
                }
            }
            count++;
        }
        Assert.Equal(7, count);
    }

    internal static (FastActionCodec Codec, JsonElement Golden) Load(string name)
    {
        var golden = CodecPaths.Golden(name);
        var stats = golden.GetProperty("norm_stats");
        var codec = FastActionCodec.Load(CodecPaths.RequireShared(CodecPaths.FromRoot(golden.GetProperty("assets").GetString()!)),
            new FastCodecOptions
            {
                NormStatsPath = CodecPaths.RequireShared(CodecPaths.FromRoot(stats.GetProperty("file").GetString()!)),
                NormStatsKey = stats.GetProperty("key").GetString(),
            });
        Assert.Equal(golden.GetProperty("time_horizon").GetInt32(), codec.TimeHorizon);
        Assert.Equal(golden.GetProperty("action_dim").GetInt32(), codec.ActionDim);
        return (codec, golden);
    }

    private static float[,] EnvNoOp(FastActionCodec codec)
    {
        var env = new float[codec.TimeHorizon, codec.ActionDim];
        for (int t = 0; t < codec.TimeHorizon; t++)
        {
            env[t, codec.ActionDim - 1] = -1;
        }
        return env;
    }

    internal static void AssertClose(double[][] expected, float[,] actual)
    {
        Assert.Equal(expected.Length, actual.GetLength(0));
        Assert.Equal(expected[0].Length, actual.GetLength(1));
        for (int t = 0; t < expected.Length; t++)
        {
            for (int d = 0; d < expected[t].Length; d++)
            {
                Assert.True(Math.Abs(expected[t][d] - actual[t, d]) <= Tolerance,
                    $"[{t}, {d}]: expected {expected[t][d]}, got {actual[t, d]}");
            }
        }
    }
}
