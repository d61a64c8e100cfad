using System.Diagnostics;
using Ellsa.Runtime.Codecs.Text;
using Xunit;

namespace Ellsa.Tests.Codecs;

/// <summary>Coarse guards against accidental slowness (quadratic loops, per-call regex
/// compilation): the targets are a few ms to load the FAST tokenizer and well under a
/// millisecond per sentence (about 20 µs measured); the bounds leave wide room for a busy machine.</summary>
public class TextTokenizerSpeedTests
{
    [Fact]
    public void FastTokenizerLoadsInMilliseconds()
    {
        string path = CodecPaths.RequireShared(Path.Combine(CodecPaths.LiberoFast, "tokenizer.json"));
        TextTokenizer.Load(path);
        double median = Median(7, () => TextTokenizer.Load(path));
        Assert.True(median < 50, $"median load {median:F2} ms");
    }

    [Fact]
    public void SentenceEncodesAndDecodesWellUnderAMillisecond()
    {
        var tokenizer = TextTokenizer.Load(CodecPaths.TinyTextTokenizer);
        const string sentence = "<bop>Please answer by action or text following the speech instruction.<eop> I'm on it, café 机器人 😀";
        for (int i = 0; i < 200; i++)
        {
            tokenizer.Decode(tokenizer.Encode(sentence));
        }
        double median = Median(51, () => tokenizer.Decode(tokenizer.Encode(sentence)));
        Assert.True(median < 1.0, $"median encode+decode {median:F3} ms");
    }

    private static double Median(int runs, Action action)
    {
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return times[runs / 2];
    }
}
