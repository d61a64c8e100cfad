using System.Text.Json;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Cli;

/// <summary>The CLI commands end to end, with the JSON contracts of 00-design.md §6 and issue 4.</summary>
public sealed class CliCommandTests
{
    private static string Goldens(string folder, string file) => Path.Combine(TestPaths.Root, "tests", "goldens", folder, file);

    /// <summary>
    /// (model, golden folder, sequence, device): the tiny model and the three variant checkpoints
    /// the engine was not written against (other shapes, dtypes, LoRA merged or not, one file or
    /// shards), on the CPU backend and on the ILGPU kernels (simulator).
    /// </summary>
    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var device in new[] { "cpu", "ilgpu-cpu" })
        {
            data.Add("tiny", "spliced_audio", device);
            data.Add("tiny", "acting_block", device);
            foreach (var variant in Directory.GetDirectories(TestPaths.Variants).Select(Path.GetFileName).Order())
                data.Add(variant!, "acting_block", device);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardWritesExpertsAndOneRowPerPosition(string model, string sequence, string device)
    {
        using var temp = TestPaths.CreateTemp();
        var golden = Golden.Load(model, sequence);
        var result = CliRunner.InProcess("forward", "--model", golden.Case.ModelDirectory, "--input", golden.Case.SequenceFile, "--output", temp.File("out.json"), "--device", device);
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(File.ReadAllText(temp.File("out.json")));
        Assert.Equal(golden.Forward.Experts, json.RootElement.GetProperty("experts").GetString());
        var rows = json.RootElement.GetProperty("logits").EnumerateArray().ToList();
        Assert.Equal(golden.Forward.Logits.Length, rows.Count);
        // 1e-4 is the core engine's bar on the tiny model; 1e-3 holds for unseen checkpoints and the ILGPU kernels.
        double tolerance = model == "tiny" && device == "cpu" ? 1e-4 : 1e-3;
        for (int p = 0; p < rows.Count; p++)
        {
            var row = rows[p].EnumerateArray().Select(v => v.GetSingle()).ToArray();
            Assert.True(Numeric.RelativeL2<float>(row, golden.Forward.Logits[p]) < tolerance, $"position {p}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GenerateWritesTextAndActionIds(string model, string sequence, string device)
    {
        using var temp = TestPaths.CreateTemp();
        var golden = Golden.Load(model, sequence);
        var result = CliRunner.InProcess("generate", "--model", golden.Case.ModelDirectory, "--input", golden.Case.SequenceFile, "--output", temp.File("out.json"),
            "--max-text", golden.Generate.MaxText.ToString(), "--max-action", golden.Generate.MaxAction.ToString(), "--device", device);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"device: {device}", result.Stderr);
        using var json = JsonDocument.Parse(File.ReadAllText(temp.File("out.json")));
        Assert.Equal(golden.Generate.TextIds, json.RootElement.GetProperty("text_ids").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(golden.Generate.ActionIds, json.RootElement.GetProperty("action_ids").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public void InspectReportsBindingsAndStatus()
    {
        var result = CliRunner.InProcess("inspect", "--model", TestPaths.Tiny);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("speech.layers.1.q_proj.lora_A", result.Stdout);
        Assert.Contains("missing (0)", result.Stdout);
        Assert.Contains("status: loadable", result.Stdout);
    }

    [Fact]
    public void DuplexWritesATimelineLinePerBlockAndASummary()
    {
        using var temp = TestPaths.CreateTemp();
        var result = CliRunner.InProcess("duplex", "--model", TestPaths.Tiny, "--input", Goldens("sessions", "speech_14.session.json"),
            "--output", temp.File("timeline.jsonl"), "--context-limit", "200");
        Assert.Equal(0, result.ExitCode);
        var lines = File.ReadAllLines(temp.File("timeline.jsonl"));
        Assert.Equal(14, lines.Length);
        using var expected = JsonDocument.Parse(File.ReadAllText(Goldens("sessions", "speech_14.expected.json")));
        var blocks = expected.RootElement.GetProperty("blocks").EnumerateArray().ToList();
        for (int b = 0; b < lines.Length; b++)
        {
            using var line = JsonDocument.Parse(lines[b]);
            var root = line.RootElement;
            Assert.Equal(b, root.GetProperty("block").GetInt32());
            Assert.Equal(blocks[b].GetProperty("text_ids").GetRawText().Replace(" ", ""), root.GetProperty("text_ids").GetRawText());
            Assert.Equal(10, root.GetProperty("actions").GetArrayLength());
            Assert.True(root.TryGetProperty("text", out _) && root.TryGetProperty("events", out _) && root.TryGetProperty("ms", out _));
        }
        Assert.Contains("blocks", result.Stdout);
        Assert.Contains("p95 ms", result.Stdout);
    }

    [Fact]
    public void FastDecodeAndEncodeUseTheReleasedAssets()
    {
        string assets = Path.Combine(TestPaths.SharedData, "fast");
        string stats = Path.Combine(TestPaths.SharedData, "norm_stats", "libero_pre.json");
        var decode = CliRunner.InProcess("fast", "decode", "--assets", assets, "--ids", "482,1168,295,439,261,827", "--norm-stats", stats, "--key", "libero");
        Assert.Equal(0, decode.ExitCode);
        using var decoded = JsonDocument.Parse(decode.Stdout);
        var actions = decoded.RootElement.GetProperty("actions").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        Assert.Equal(10, actions.Length);
        Assert.All(actions, row => Assert.Equal(-1, row[6]));
        Assert.All(actions, row => Assert.All(row[..6], v => Assert.InRange(v, -0.02, 0.02)));
        Assert.Empty(decoded.RootElement.GetProperty("problems").EnumerateArray());

        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(temp.File("chunk.json"), JsonSerializer.Serialize(Enumerable.Repeat(new double[] { 0, 0, 0, 0, 0, 0, -1 }, 10)));
        var encode = CliRunner.InProcess("fast", "encode", "--assets", assets, "--actions", temp.File("chunk.json"), "--norm-stats", stats, "--key", "libero");
        Assert.Equal(0, encode.ExitCode);
        using var encoded = JsonDocument.Parse(encode.Stdout);
        Assert.Equal([482, 1168, 295, 439, 261, 827], encoded.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()));

        var malformed = CliRunner.InProcess("fast", "decode", "--assets", assets, "--ids", "482,5000,12", "--norm-stats", stats);
        Assert.Equal(0, malformed.ExitCode);
        using var safe = JsonDocument.Parse(malformed.Stdout);
        Assert.NotEmpty(safe.RootElement.GetProperty("problems").EnumerateArray());
    }
}
