using System.Text.Json;
using Ellsa.Runtime.Duplex;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Duplex;

/// <summary>
/// Multi-block sessions against goldens that tests/reference/make_session_goldens.py computed the
/// reference wrapper's way (whole sequence rebuilt and decoded from scratch every block, float64):
/// parity and incremental mode must both give the golden ids on every block, through silent and
/// speaking blocks and context trims.
/// </summary>
public sealed class SessionGoldenTests : IClassFixture<SessionGoldenTests.TinyModel>
{
    /// <summary>weights/tiny without its speech decoder: the session tests that do not check speech leave its cost out of CI.</summary>
    public sealed class TinyModel : IDisposable
    {
        public Model Model { get; } = Model.Load(TestPaths.Tiny, SharedBackends.Cpu, speaker: false);
        public void Dispose() => Model.Dispose();
    }

    /// <summary>weights/tiny with its speech decoder: sessions speak.</summary>
    public sealed class TinySpeakingModel : IDisposable
    {
        public Model Model { get; } = Model.Load(TestPaths.Tiny, SharedBackends.Cpu);
        public void Dispose() => Model.Dispose();
    }

    private sealed record ExpectedBlock(int[] TextIds, int[] ActionIds, bool Trimmed, int SequenceLength);

    private sealed record Expected(int ContextLimit, int[] PromptIds, int[] NoOpActionIds, ExpectedBlock[] Blocks);

    private readonly Model _model;

    public SessionGoldenTests(TinyModel fixture) => _model = fixture.Model;

    private static string Sessions => Path.Combine(TestPaths.Root, "tests", "goldens", "sessions");

    private static Expected LoadExpected(string name)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Sessions, name + ".expected.json")));
        var root = json.RootElement;
        static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
        return new Expected(
            root.GetProperty("context_limit").GetInt32(),
            Ints(root.GetProperty("prompt_ids")),
            Ints(root.GetProperty("noop_action_ids")),
            root.GetProperty("blocks").EnumerateArray().Select(b => new ExpectedBlock(
                Ints(b.GetProperty("text_ids")), Ints(b.GetProperty("action_ids")),
                b.GetProperty("trimmed").GetBoolean(), b.GetProperty("sequence_length").GetInt32())).ToArray());
    }

    private List<BlockResult> Run(string name, bool parity, out Session session)
    {
        var expected = LoadExpected(name);
        var script = SessionFile.Read(Path.Combine(Sessions, name + ".session.json"));
        session = _model.CreateSession(new SessionOptions { Mode = script.Mode, Parity = parity, ContextLimit = expected.ContextLimit });
        return script.Blocks.Select(session.Step).ToList();
    }

    [Theory]
    [InlineData("speech_14", false)]
    [InlineData("speech_14", true)]
    [InlineData("act_12", false)]
    [InlineData("act_12", true)]
    public void EveryBlockMatchesTheReferenceWrapper(string name, bool parity)
    {
        var expected = LoadExpected(name);
        var results = Run(name, parity, out var session);
        using (session)
        {
            Assert.Equal(expected.PromptIds, session.PromptIds);
            Assert.Equal(expected.NoOpActionIds, session.NoOpActionIds);
            Assert.True(expected.Blocks.Length >= 12);
            for (int b = 0; b < expected.Blocks.Length; b++)
            {
                var want = expected.Blocks[b];
                var got = results[b];
                string where = $"{name} {(parity ? "parity" : "incremental")} block {b}";
                Assert.True(want.TextIds.SequenceEqual(got.TextIds), $"{where}: text {string.Join(",", got.TextIds)} vs {string.Join(",", want.TextIds)}");
                Assert.True(want.ActionIds.SequenceEqual(got.ActionIds), $"{where}: actions {string.Join(",", got.ActionIds)} vs {string.Join(",", want.ActionIds)}");
                Assert.Equal(want.Trimmed, got.Has(BlockEventKind.ContextTrimmed));
                Assert.Equal(want.SequenceLength, got.Counters.SequenceLength);
            }
            Assert.Contains(results, r => r.Has(BlockEventKind.Silent));
            Assert.Contains(results, r => r.Has(BlockEventKind.Speaking));
            Assert.Contains(results, r => r.Has(BlockEventKind.ContextTrimmed));
        }
    }

    [Fact]
    public void IncrementalSpeechBlocksComputeOnlyTheirNewTokens()
    {
        var expected = LoadExpected("speech_14");
        var results = Run("speech_14", parity: false, out var session);
        using (session)
        {
            for (int b = 1; b < results.Count; b++)
            {
                var counters = results[b].Counters;
                Assert.Equal(0, counters.RecomputedPositions);
                if (results[b].Has(BlockEventKind.ContextTrimmed))
                    continue;
                // New since the previous block: everything after its sequence and its answer, plus the
                // answer's last position when the cap cut it and the history forced it to eot.
                var previous = results[b - 1];
                int cached = expected.Blocks[b - 1].SequenceLength + previous.TextIds.Length;
                bool forced = previous.TextIds[^1] != _model.Network.Config.Settings.Tokens.Eot;
                int newTokens = expected.Blocks[b].SequenceLength - cached + (forced ? 1 : 0);
                Assert.Equal(newTokens, counters.PrefilledPositions);
            }
        }
    }

    [Fact]
    public void IncrementalActingNeverRecomputesThePromptOrTheStableHistory()
    {
        var expected = LoadExpected("act_12");
        var results = Run("act_12", parity: false, out var session);
        using (session)
        {
            foreach (var result in results.Skip(1))
            {
                Assert.Equal(0, result.Counters.RecomputedPositions);
                Assert.True(result.Counters.PrefilledPositions <= result.Counters.SequenceLength - expected.PromptIds.Length,
                    $"block {result.Block} prefilled {result.Counters.PrefilledPositions} of {result.Counters.SequenceLength}");
            }
        }
        var parity = Run("act_12", parity: true, out var paritySession);
        using (paritySession)
            Assert.All(parity.Skip(1), r => Assert.True(r.Counters.RecomputedPositions > 0));
    }
}
