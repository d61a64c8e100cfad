using System.Text.Json;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Duplex;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Duplex;

/// <summary>
/// A context trim re-prefills the whole kept history in one block (issue 8, item 11): its cost is
/// reported in the block's timings and counters, and the policy is configurable so a controller
/// can trim earlier in smaller steps — still laying out exactly the reference's sequence.
/// </summary>
public sealed class ContextTrimTests : IClassFixture<SessionGoldenTests.TinyModel>
{
    private const int Limit = 200;
    private readonly Model _model;

    public ContextTrimTests(SessionGoldenTests.TinyModel fixture) => _model = fixture.Model;

    private static BlockInput[] Blocks(int count)
    {
        var random = new Random(11);
        return Enumerable.Range(0, count).Select(_ => BlockInput.FromEmbeddings(
            Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, 64).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray()).ToArray())).ToArray();
    }

    private static List<BlockResult> Run(Session session, BlockInput[] blocks) => blocks.Select(session.Step).ToList();

    [Fact]
    public void ATrimReportsTheHistoryItReprefilledAndItsTime()
    {
        using var session = _model.CreateSession(new SessionOptions { ContextLimit = Limit });
        var results = Run(session, Blocks(12));
        var trimmed = results.Where(r => r.Has(BlockEventKind.ContextTrimmed)).ToList();
        Assert.NotEmpty(trimmed);
        foreach (var r in results)
        {
            if (r.Has(BlockEventKind.ContextTrimmed))
            {
                Assert.InRange(r.Counters.TrimRePrefilledPositions, 1, r.Counters.PrefilledPositions - 1);
                Assert.InRange(r.Timings.TrimMs, double.Epsilon, r.Timings.PrefillMs);
            }
            else
            {
                Assert.Equal(0, r.Counters.TrimRePrefilledPositions);
                Assert.Equal(0, r.Timings.TrimMs);
            }
        }
    }

    [Fact]
    public void AnEarlierTrimInSmallerStepsKeepsTheSequenceBelowItsMarkAndMatchesParity()
    {
        var blocks = Blocks(14);
        var early = new SessionOptions { ContextLimit = Limit, TrimAt = 0.8, TrimTo = 0.7 };
        using var defaults = _model.CreateSession(new SessionOptions { ContextLimit = Limit });
        using var incremental = _model.CreateSession(early);
        using var parity = _model.CreateSession(early with { Parity = true });
        var byDefault = Run(defaults, blocks);
        var results = Run(incremental, blocks);
        var reference = Run(parity, blocks);

        int budget = incremental.Limits.MaxText + incremental.Limits.MaxAction;
        Assert.All(results, r => Assert.True(r.Counters.SequenceLength + budget <= Limit * 8 / 10, $"block {r.Block}: {r.Counters.SequenceLength}"));
        int FirstTrim(List<BlockResult> run) => run.FindIndex(r => r.Has(BlockEventKind.ContextTrimmed));
        Assert.InRange(FirstTrim(results), 0, FirstTrim(byDefault) - 1);
        Assert.True(results.Count(r => r.Has(BlockEventKind.ContextTrimmed)) > byDefault.Count(r => r.Has(BlockEventKind.ContextTrimmed)));

        // The kept history is laid out as the reference lays it out: parity re-prefills it whole.
        for (int b = 0; b < blocks.Length; b++)
        {
            Assert.Equal(reference[b].TextIds, results[b].TextIds);
            Assert.Equal(reference[b].Counters.SequenceLength, results[b].Counters.SequenceLength);
            Assert.Equal(reference[b].Has(BlockEventKind.ContextTrimmed), results[b].Has(BlockEventKind.ContextTrimmed));
        }
    }

    [Fact]
    public void EllsaJsonSessionKeysSetThePolicyAndBadFractionsNameTheKey()
    {
        using var directory = TestPaths.CreateTemp();
        CopyTiny(directory.Path, """{"context_limit": 200, "trim_at": 0.8, "trim_to": 0.7}""");
        var blocks = Blocks(10);
        using (var model = Model.Load(directory.Path, SharedBackends.Cpu))
        using (var configured = model.CreateSession())
        using (var explicitly = _model.CreateSession(new SessionOptions { ContextLimit = Limit, TrimAt = 0.8, TrimTo = 0.7 }))
        {
            var a = Run(configured, blocks);
            var b = Run(explicitly, blocks);
            Assert.Equal(b.Select(r => r.Has(BlockEventKind.ContextTrimmed)), a.Select(r => r.Has(BlockEventKind.ContextTrimmed)));
            Assert.Equal(b.Select(r => r.Counters.SequenceLength), a.Select(r => r.Counters.SequenceLength));
        }

        CopyTiny(directory.Path, """{"trim_at": 1.5}""");
        var error = Assert.Throws<ConfigException>(() => Model.Load(directory.Path, SharedBackends.Cpu));
        Assert.Contains("ellsa.json: session.trim_at must be a fraction of the context limit in (0, 1], got 1.5", error.Message);

        CopyTiny(directory.Path, """{"trim_at": 0.5, "trim_to": 0.6}""");
        using var inverted = Model.Load(directory.Path, SharedBackends.Cpu);
        Assert.Contains("ellsa.json session.trim_to 0.6: must be in (0, ellsa.json session.trim_at = 0.5]",
            Assert.Throws<ArgumentException>(() => inverted.CreateSession()).Message);
    }

    [Fact]
    public void DuplexWritesTheTrimCostIntoTheTimeline()
    {
        using var temp = TestPaths.CreateTemp();
        var result = CliRunner.Process("duplex", "--model", TestPaths.Tiny, "--input",
            Path.Combine(TestPaths.Root, "tests", "goldens", "sessions", "speech_14.session.json"),
            "--output", temp.File("timeline.jsonl"), "--context-limit", "200", "--device", "cpu");
        Assert.Equal(0, result.ExitCode);
        var lines = File.ReadAllLines(temp.File("timeline.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(14, lines.Count);
        foreach (var line in lines)
        {
            bool trimmed = line.GetProperty("events").EnumerateArray().Any(e => e.GetString()!.StartsWith("ContextTrimmed"));
            int reprefilled = line.GetProperty("counters").GetProperty("trim_reprefilled").GetInt32();
            double trimMs = line.GetProperty("stages").GetProperty("trim_ms").GetDouble();
            Assert.Equal(trimmed, reprefilled > 0);
            Assert.Equal(trimmed, trimMs > 0);
        }
        Assert.Contains(lines, l => l.GetProperty("counters").GetProperty("trim_reprefilled").GetInt32() > 0);
    }

    /// <summary>weights/tiny (codec assets included) with ellsa.json's session section replaced.</summary>
    private static void CopyTiny(string target, string session)
    {
        foreach (string file in Directory.GetFiles(TestPaths.Tiny, "*", SearchOption.AllDirectories))
        {
            string destination = Path.Combine(target, Path.GetRelativePath(TestPaths.Tiny, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination, overwrite: true);
        }
        string settings = Path.Combine(target, "ellsa.json");
        var json = File.ReadAllText(settings).TrimEnd();
        File.WriteAllText(settings, json[..json.LastIndexOf('}')].TrimEnd() + ",\n  \"session\": " + session + "\n}\n");
    }
}
