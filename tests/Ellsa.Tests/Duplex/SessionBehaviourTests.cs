using Ellsa.Runtime.Duplex;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Duplex;

public sealed class SessionBehaviourTests : IClassFixture<SessionGoldenTests.TinyModel>
{
    private readonly Model _model;
    private readonly Random _random = new();

    public SessionBehaviourTests(SessionGoldenTests.TinyModel fixture) => _model = fixture.Model;

    private int Hidden => _model.Network.Config.Speech.HiddenSize;

    private float[][] Audio(int rows = 5, int? width = null) =>
        Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, width ?? Hidden).Select(_ => (float)(_random.NextDouble() - 0.5)).ToArray()).ToArray();

    private int[] Frame(int codes = 625) => Enumerable.Range(0, codes).Select(_ => _random.Next(64)).ToArray();

    [Fact]
    public void TheKvCacheIsPreallocatedForTheContextLimitAndReported()
    {
        using var session = _model.CreateSession(new SessionOptions { ContextLimit = 300 });
        var config = _model.Network.Config.Speech;
        Assert.Equal(300, session.ContextLimit);
        Assert.Equal(2L * config.Layers * config.KvHeads * config.HeadDim * 300 * sizeof(float), session.KvCacheBytes);
    }

    [Fact]
    public void SlowBlocksReportADeadlineOverrun()
    {
        using var session = _model.CreateSession(new SessionOptions { BlockDeadline = TimeSpan.FromTicks(1) });
        var result = session.Step(BlockInput.FromEmbeddings(Audio()));
        Assert.Contains(result.Events, e => e.Kind == BlockEventKind.DeadlineOverrun && e.Detail.Contains("ms"));
    }

    [Fact]
    public void BadInputsNameTheBlockAndWhatIsWrong()
    {
        using var speech = _model.CreateSession();
        Assert.Contains("block 0: 4 audio embeddings", Assert.Throws<ArgumentException>(() => speech.Step(BlockInput.FromEmbeddings(Audio(4)))).Message);
        Assert.Contains("audio embedding 0 has 3 values", Assert.Throws<ArgumentException>(() => speech.Step(BlockInput.FromEmbeddings(Audio(5, 3)))).Message);
        // The tiny model listens: one second of PCM is refused until the encoder's lookahead past the block's end has arrived.
        Assert.Contains("lookahead", Assert.Throws<ArgumentException>(() => speech.Step(new BlockInput(new AudioInput.Pcm(new float[16000]), []))).Message);

        using var act = _model.CreateSession(new SessionOptions { Mode = SessionMode.Act });
        Assert.Contains("acting takes 2 images", Assert.Throws<ArgumentException>(() => act.Step(BlockInput.FromEmbeddings(Audio(), Frame()))).Message);
        Assert.Contains("image 1 has 600 codes", Assert.Throws<ArgumentException>(() => act.Step(BlockInput.FromEmbeddings(Audio(), Frame(), Frame(600)))).Message);
        var outside = Frame();
        outside[17] = 64;
        Assert.Contains("code 17 is 64", Assert.Throws<ArgumentException>(() => act.Step(BlockInput.FromEmbeddings(Audio(), Frame(), outside))).Message);
        // The tiny model has a vision tokenizer: a raw frame is encoded, but one whose buffer does not match its size is refused.
        Assert.Contains("block 0: image 1: a 2×2 RGB frame has 12 bytes, not 11",
            Assert.Throws<ArgumentException>(() => act.Step(new BlockInput(new AudioInput.Embeddings(Audio()), [new ImageInput.Codes(Frame()), new ImageInput.Rgb(new byte[11], 2, 2)]))).Message);
        // Rejected blocks leave the session untouched.
        Assert.Equal(0, act.Blocks);
    }

    [Fact]
    public void SpeechBlocksCarryTheDecodedNoOpChunk()
    {
        using var session = _model.CreateSession();
        var result = session.Step(BlockInput.FromEmbeddings(Audio()));
        Assert.Equal(session.NoOpActionIds, result.ActionIds);
        Assert.NotNull(result.Actions);
        for (int t = 0; t < result.Actions!.GetLength(0); t++)
        {
            for (int d = 0; d < 6; d++)
                Assert.InRange(result.Actions[t, d], -0.05f, 0.05f);
            Assert.Equal(-1f, result.Actions[t, 6]);
        }
    }

    [Fact]
    public void AContextLimitTooSmallForOneBlockIsAClearError()
    {
        using var session = _model.CreateSession(new SessionOptions { Mode = SessionMode.Act, ContextLimit = 1300 });
        var error = Assert.Throws<InvalidOperationException>(() => session.Step(BlockInput.FromEmbeddings(Audio(), Frame(), Frame())));
        Assert.Contains("context limit is 1300", error.Message);
    }
}
