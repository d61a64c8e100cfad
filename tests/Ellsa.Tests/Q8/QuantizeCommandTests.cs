using Ellsa.Kernels.Cpu;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Decoding;
using Ellsa.Runtime.Moe;
using Ellsa.Tests.Moe;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Q8;

/// <summary>
/// <c>ellsa quantize</c>: the converted directory loads (as q8, from its ellsa.json) and gives
/// exactly the logits of a <c>--weights q8</c> load of the source — on weights/tiny and on fresh
/// random checkpoints with unmerged LoRA, shards and f16/f32 tensors — and refuses what it must.
/// </summary>
public sealed class QuantizeCommandTests
{
    [Fact]
    public void TinyConvertedLoadsWithTheLogitsOfAQ8Load()
    {
        using var temp = TestPaths.CreateTemp();
        string output = Path.Combine(temp.Path, "tiny-q8");
        var result = CliRunner.InProcess("quantize", "--model", TestPaths.Tiny, "--output", output);
        Assert.True(result.ExitCode == 0, result.Stderr);

        using (var store = CheckpointStore.Open(output))
        {
            var q = store.Tensors.Values.Single(t => t.Name.StartsWith("speech") && t.Name.Contains("layers.0.self_attn.q_proj") && t.Name.EndsWith(".weight"));
            Assert.Equal(SafetensorsDtype.I8, q.Entry.Dtype);
            Assert.True(store.TryGet(q.Name + ".q8_scale", out var scales));
            Assert.Equal(SafetensorsDtype.F16, scales.Entry.Dtype);
            Assert.DoesNotContain(store.Tensors.Keys, name => name.Contains("lora_"));
        }
        Assert.Equal(WeightFormat.Q8, EllsaSettings.Load(output).Weights.Format);
        Assert.True(File.Exists(Path.Combine(output, "tokenizer.json")));
        AssertSameLogits(TestPaths.Tiny, output, Path.Combine(TestPaths.TinyGoldens, "acting_block.seq.json"), "tiny");
    }

    [Fact]
    public void RandomCheckpointsConvertedLoadWithTheLogitsOfAQ8Load()
    {
        int seed = Environment.TickCount;
        for (int trial = 0; trial < 3; trial++)
        {
            var random = new Random(seed + trial);
            using var temp = TestPaths.CreateTemp();
            string source = Path.Combine(temp.Path, "source");
            Directory.CreateDirectory(source);
            var reference = RandomCheckpoint.Create(source, random);
            string output = Path.Combine(temp.Path, "q8");
            var result = CliRunner.InProcess("quantize", "--model", source, "--output", output);
            Assert.True(result.ExitCode == 0, $"seed {seed + trial}: {result.Stderr}");
            var t = reference.Tokens;
            var sequence = Path.Combine(temp.Path, "seq.json");
            File.WriteAllText(sequence, $"{{\"segments\": [{{\"ids\": [{t["bos"]}, {random.Next(90)}, {t["boi"]}, {t["visual_base"]}, {t["eoi"]}, {t["bot"]}]}}]}}");
            AssertSameLogits(source, output, sequence, $"seed {seed + trial} merged={reference.MergedLora}");
        }
    }

    [Fact]
    public void RefusesANonEmptyOutputAndAnUnreadableModelInOneLine()
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(Path.Combine(temp.Path, "keep.txt"), "x");
        var busy = CliRunner.InProcess("quantize", "--model", TestPaths.Tiny, "--output", temp.Path);
        CliAssert.OneErrorLine(busy, "non-empty output", temp.Path, "not empty");
        Assert.Equal("x", File.ReadAllText(Path.Combine(temp.Path, "keep.txt")));

        string file = Path.Combine(temp.Path, "keep.txt");
        CliAssert.OneErrorLine(CliRunner.InProcess("quantize", "--model", TestPaths.Tiny, "--output", file), "output is a file", file, "is a file");

        string broken = Path.Combine(temp.Path, "broken");
        Directory.CreateDirectory(broken);
        foreach (string name in new[] { "config.json", "vision_config.json" })
            File.Copy(Path.Combine(TestPaths.Tiny, name), Path.Combine(broken, name));
        File.WriteAllBytes(Path.Combine(broken, "model.safetensors"), [1, 2, 3]);
        string target = Path.Combine(temp.Path, "out");
        CliAssert.OneErrorLine(CliRunner.InProcess("quantize", "--model", broken, "--output", target), "unreadable model", "model.safetensors", "header");
        Assert.False(Directory.Exists(target), "a failed conversion left its output behind");
    }

    private static void AssertSameLogits(string source, string converted, string sequenceFile, string context)
    {
        using var backend = new CpuBackend(threads: 2);
        using var direct = SaMoeModel.Load(source, backend, format: WeightFormat.Q8);
        using var stored = SaMoeModel.Load(converted, backend);
        Assert.True(Assert.IsType<CpuMatrix>(stored.Speech.Layers[0].GateUp).HasQ8);
        var batch = SequenceFile.Read(sequenceFile, direct.Config.Speech.HiddenSize);
        var a = GoldenTests.Logits(direct, batch);
        var b = GoldenTests.Logits(stored, batch);
        Assert.Equal(a.Count, b.Count);
        for (int p = 0; p < a.Count; p++)
            Assert.True(a[p].AsSpan().SequenceEqual(b[p]), $"{context}: position {p} differs");
    }
}
