using System.Buffers.Binary;
using System.Text.Json;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Duplex;
using Ellsa.Runtime.Moe;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Duplex;

/// <summary>
/// NaN and infinity never turn into ids (issue 8, item 2): non-finite input is refused at Step
/// without touching the session, and a network that overflows (a bad checkpoint, a LoRA merge
/// with a huge alpha) is an error naming the position or the tensor — in the API and in the CLI.
/// </summary>
public sealed class NonFiniteTests : IClassFixture<SessionGoldenTests.TinyModel>
{
    private const string SpeechFinalNorm = "speech_expert.model.base_model.model.model.norm.weight";
    private readonly Model _model;

    public NonFiniteTests(SessionGoldenTests.TinyModel fixture) => _model = fixture.Model;

    private static float[][] Audio(int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, 64).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray()).ToArray();
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void NonFiniteAudioIsRefusedNamingBlockAndRowAndTheSessionStaysUnchanged(float poison)
    {
        using var poisoned = _model.CreateSession();
        using var clean = _model.CreateSession();
        var first = poisoned.Step(BlockInput.FromEmbeddings(Audio(1)));
        clean.Step(BlockInput.FromEmbeddings(Audio(1)));

        var bad = Audio(2);
        bad[3][7] = poison;
        var error = Assert.Throws<ArgumentException>(() => poisoned.Step(BlockInput.FromEmbeddings(bad)));
        Assert.StartsWith($"block 1: audio embedding 3 value 7 is {poison}", error.Message);
        Assert.Equal(1, poisoned.Blocks);
        Assert.Equal(first.Block, poisoned.Blocks - 1);

        for (int seed = 3; seed < 6; seed++)
        {
            var expected = clean.Step(BlockInput.FromEmbeddings(Audio(seed)));
            var actual = poisoned.Step(BlockInput.FromEmbeddings(Audio(seed)));
            Assert.Equal(expected.Block, actual.Block);
            Assert.Equal(expected.TextIds, actual.TextIds);
            Assert.Equal(expected.ActionIds, actual.ActionIds);
        }
    }

    /// <summary>A copy of weights/tiny (codec assets included) with <paramref name="edit"/> applied.</summary>
    private static TempDirectory TinyCopy(Action<string> edit)
    {
        var temp = TestPaths.CreateTemp();
        foreach (string file in Directory.GetFiles(TestPaths.Tiny, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(temp.Path, Path.GetRelativePath(TestPaths.Tiny, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        edit(temp.Path);
        return temp;
    }

    /// <summary>Overwrites every value of one tensor with NaN, in place in its shard.</summary>
    private static void FillWithNaN(string directory, string tensor)
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, CheckpointStore.IndexFileName)));
        string shard = Path.Combine(directory, index.RootElement.GetProperty("weight_map").GetProperty(tensor).GetString()!);
        var bytes = File.ReadAllBytes(shard);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        var entry = header.RootElement.GetProperty(tensor);
        long start = 8 + headerLength + entry.GetProperty("data_offsets")[0].GetInt64();
        long end = 8 + headerLength + entry.GetProperty("data_offsets")[1].GetInt64();
        switch (entry.GetProperty("dtype").GetString())
        {
            case "F32":
                for (long i = start; i < end; i += 4)
                    BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan((int)i), float.NaN);
                break;
            default: // BF16 and F16 both read 0x7FFF as a NaN
                for (long i = start; i < end; i += 2)
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan((int)i), 0x7FFF);
                break;
        }
        File.WriteAllBytes(shard, bytes);
    }

    private static void SetLoraAlpha(string directory, string alpha)
    {
        string path = Path.Combine(directory, "ellsa.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"alpha\": 16.0", $"\"alpha\": {alpha}"));
    }

    [Fact]
    public void ANetworkThatProducesNaNFailsTheBlockNamingThePositionAndKeepsTheSessionUsable()
    {
        using var directory = TinyCopy(d => FillWithNaN(d, SpeechFinalNorm));
        using var model = Model.Load(directory.Path, SharedBackends.Cpu);
        using var session = model.CreateSession();
        var error = Assert.Throws<NonFiniteException>(() => session.Step(BlockInput.FromEmbeddings(Audio(1))));
        Assert.Matches(@"^block 0: position \d+: the speech head's best logit \(id \d+\) is NaN", error.Message);
        Assert.Equal(0, session.Blocks);
        Assert.Throws<NonFiniteException>(() => session.Step(BlockInput.FromEmbeddings(Audio(1))));
    }

    [Fact]
    public void GenerateAndForwardReportNonFiniteLogitsAsAnErrorNotIds()
    {
        using var directory = TinyCopy(d => FillWithNaN(d, SpeechFinalNorm));
        string input = Path.Combine(TestPaths.TinyGoldens, "prompt_only.seq.json");

        var generate = CliRunner.Process("generate", "--model", directory.Path, "--input", input, "--output", directory.File("gen.json"), "--device", "cpu");
        AssertOneLine(generate, @"^error: position \d+: the speech head's best logit \(id \d+\) is NaN");
        Assert.False(File.Exists(directory.File("gen.json")));

        var forward = CliRunner.Process("forward", "--model", directory.Path, "--input", input, "--output", directory.File("fwd.json"), "--device", "cpu");
        AssertOneLine(forward, @"^error: position 0: the speech head's logit \d+ is NaN");
        Assert.False(File.Exists(directory.File("fwd.json")));
    }

    [Fact]
    public void ALoraMergeThatOverflowsFailsAtLoadNamingTheTensorAndAlpha()
    {
        using var huge = TinyCopy(d => SetLoraAlpha(d, "1e308"));
        var error = Assert.Throws<CheckpointException>(() => Model.Load(huge.Path, SharedBackends.Cpu));
        Assert.Matches(@"tensor '[^']+_proj\.base_layer\.weight': its LoRA scaling alpha/r = .* overflows float32; check ellsa.json lora.alpha", error.Message);

        const string LoraB = "speech_expert.model.base_model.model.model.layers.0.self_attn.q_proj.lora_B.default.weight";
        using var broken = TinyCopy(d => FillWithNaN(d, LoraB));
        var merged = Assert.Throws<CheckpointException>(() => Model.Load(broken.Path, SharedBackends.Cpu));
        Assert.Matches(@"tensor '[^']+q_proj[^']*': W \+ \(alpha/r\)·B·A .* is not finite in row 0", merged.Message);

        var cli = CliRunner.Process("generate", "--model", huge.Path, "--input", Path.Combine(TestPaths.TinyGoldens, "prompt_only.seq.json"),
            "--output", huge.File("out.json"), "--device", "cpu");
        Assert.Equal(1, cli.ExitCode);
        Assert.Contains("lora.alpha", cli.Stderr);
        Assert.DoesNotContain("text_ids", cli.Stdout);
        Assert.False(File.Exists(huge.File("out.json")));
    }

    private static void AssertOneLine(CliRunner.Result result, string pattern)
    {
        Assert.Equal(1, result.ExitCode);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("device:")).ToArray();
        Assert.True(lines.Length == 1, $"expected one error line, got:\n{result.Stderr}");
        Assert.Matches(pattern, lines[0]);
    }
}
