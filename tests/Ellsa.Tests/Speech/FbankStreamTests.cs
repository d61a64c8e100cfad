using Ellsa.Runtime.Codecs.Speech;
using Xunit;

namespace Ellsa.Tests.Speech;

/// <summary>
/// FbankStream on fresh random audio: rows bit-identical to the offline fbank for every split tried,
/// each frame emitted exactly when its last sample (160·f + 279) arrives, the end's frames at Finish.
/// </summary>
public sealed class FbankStreamTests
{
    /// <summary>Frames whose 400 samples (from 160·f − 120, reflected at the start) are all in.</summary>
    private static int CompleteFrames(long seen) => seen < 280 ? 0 : (int)((seen - 280) / 160 + 1);

    /// <summary>Streams <paramref name="pcm"/> in the given slice sizes (the rest in one last slice), checking what each push emits.</summary>
    internal static List<float[]> Stream(float[] pcm, IEnumerable<int> slices, int melBins = 128)
    {
        var stream = new FbankStream(melBins);
        var rows = new List<float[]>();
        int at = 0;
        foreach (int size in slices.Append(pcm.Length))
        {
            int take = Math.Min(size, pcm.Length - at), before = rows.Count;
            int emitted = stream.Push(pcm.AsSpan(at, take), rows);
            at += take;
            Assert.Equal(rows.Count - before, emitted);
            Assert.Equal(at, stream.SamplesSeen);
            Assert.Equal(CompleteFrames(at), stream.FramesEmitted);
            if (at == pcm.Length)
                break;
        }
        int pushed = rows.Count, finished = stream.Finish(rows);
        Assert.Equal(rows.Count - pushed, finished);
        Assert.Equal(LhotseFbank.FrameCount(pcm.Length), rows.Count);
        Assert.Equal(rows.Count, stream.FramesEmitted);
        return rows;
    }

    internal static float[] RandomAudio(Random random, int samples)
    {
        var pcm = new float[samples];
        double amplitude = Math.Pow(10, random.NextDouble() * 3 - 3); // 1e-3 … 1
        for (int i = 0; i < samples; i++)
            pcm[i] = (float)(amplitude * (2 * random.NextDouble() - 1));
        return pcm;
    }

    private static void AssertIdentical(float[] offline, List<float[]> rows, int melBins, string what)
    {
        Assert.Equal(offline.Length / melBins, rows.Count);
        for (int f = 0; f < rows.Count; f++)
            Assert.True(offline.AsSpan(f * melBins, melBins).SequenceEqual(rows[f]), $"{what}: frame {f} differs from the offline fbank");
    }

    [Fact]
    public void StreamedRowsAreTheOfflineRowsForRandomSplits()
    {
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        for (int trial = 0; trial < 12; trial++)
        {
            var pcm = RandomAudio(random, random.Next(4000, 40000));
            int melBins = trial % 3 == 0 ? random.Next(LhotseFbank.MinMelBins, LhotseFbank.MaxMelBins + 1) : 128;
            var offline = LhotseFbank.Compute(pcm, melBins);
            for (int split = 0; split < 6; split++)
            {
                int largest = split switch { 0 => 3, 1 => 170, 2 => 500, _ => 9000 };
                var slices = Enumerable.Range(0, pcm.Length).Select(_ => random.Next(0, largest + 1));
                AssertIdentical(offline, Stream(pcm, slices, melBins), melBins, $"seed {seed}, trial {trial}, split {split}");
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(79)]
    [InlineData(80)]
    [InlineData(139)]
    [InlineData(140)]
    [InlineData(239)]
    [InlineData(240)]
    [InlineData(279)]
    [InlineData(280)]
    [InlineData(281)]
    [InlineData(440)]
    [InlineData(1359)]
    public void ShortSignalsStreamLikeOffline(int samples)
    {
        int seed = Random.Shared.Next();
        var pcm = RandomAudio(new Random(seed), samples);
        var offline = LhotseFbank.Compute(pcm);
        Assert.Equal((samples + 80) / 160, offline.Length / 128);
        AssertIdentical(offline, Stream(pcm, Enumerable.Repeat(1, samples)), 128, $"seed {seed}, one sample at a time");
        AssertIdentical(offline, Stream(pcm, [samples]), 128, $"seed {seed}, one slice");
    }

    [Fact]
    public void FramesAreEmittedWhenTheirLastSampleArrives()
    {
        var pcm = RandomAudio(new Random(Random.Shared.Next()), 2000);
        var stream = new FbankStream();
        var rows = new List<float[]>();
        for (int i = 0; i < pcm.Length; i++)
        {
            int emitted = stream.Push(pcm.AsSpan(i, 1), rows);
            // Sample i completes frame f when i = 160·f + 279.
            bool completes = i >= 279 && (i - 279) % 160 == 0;
            Assert.Equal(completes ? 1 : 0, emitted);
        }
        Assert.Equal(11, stream.FramesEmitted);      // frames 0…10 end at samples 279…1879
        Assert.Equal(2, stream.Finish(rows));        // frames 11 and 12 reflect the end: (2000 + 80) / 160 = 13
        Assert.Equal(13, rows.Count);
    }

    [Fact]
    public void NonFiniteSamplesAndMisuseAreRefused()
    {
        var pcm = new float[1000];
        pcm[637] = float.NaN;
        var error = Assert.Throws<ArgumentException>(() => LhotseFbank.Compute(pcm));
        Assert.Contains("sample 637", error.Message);

        var stream = new FbankStream();
        var rows = new List<float[]>();
        stream.Push(new float[500], rows);
        var streamed = new float[300];
        streamed[12] = float.PositiveInfinity;
        error = Assert.Throws<ArgumentException>(() => stream.Push(streamed, rows));
        Assert.Contains("sample 512", error.Message);

        stream.Finish(rows);
        Assert.Throws<InvalidOperationException>(() => stream.Finish(rows));
        Assert.Throws<InvalidOperationException>(() => stream.Push(new float[10], rows));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FbankStream(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => LhotseFbank.Compute(new float[400], LhotseFbank.MaxMelBins + 1));
    }
}
