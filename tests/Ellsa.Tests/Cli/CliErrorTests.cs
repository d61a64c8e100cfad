using Ellsa.Runtime.Checkpoints;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Cli;

/// <summary>
/// Bad input ends with a non-zero exit and one line naming the file and the problem, within a
/// second and without a stack trace (issue 2 acceptance).
/// </summary>
public sealed class CliErrorTests
{
    /// <summary>A copy of the tiny model whose first shard is replaced by <paramref name="shard"/>.</summary>
    private static TempDirectory TinyWithShard(byte[] shard)
    {
        var temp = TestPaths.CreateTemp();
        foreach (string file in Directory.GetFiles(TestPaths.Tiny))
            File.Copy(file, Path.Combine(temp.Path, Path.GetFileName(file)));
        File.WriteAllBytes(Path.Combine(temp.Path, "model-00001-of-00002.safetensors"), shard);
        return temp;
    }

    public static TheoryData<string, byte[], string> BrokenShards()
    {
        var valid = File.ReadAllBytes(Path.Combine(TestPaths.Tiny, "model-00001-of-00002.safetensors"));
        return new TheoryData<string, byte[], string>
        {
            { "truncated", valid[..(valid.Length - 100)], "truncated" },
            { "oversized header", RawSafetensors.Build("{}", 0, declaredLength: 200_000_000), "HeaderTooLarge" },
            { "non-JSON header", RawSafetensors.Build("{not json", 0), "not valid JSON" },
            { "overlapping offsets", RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12), "overlaps" },
            { "gapped offsets", RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12), "gap" },
            { "size disagrees", RawSafetensors.Build("""{"a":{"dtype":"BF16","shape":[5],"data_offsets":[0,8]}}""", 8), "needs 10" },
            { "duplicate names", RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4), "twice" },
            { "unknown dtype", RawSafetensors.Build("""{"a":{"dtype":"BF17","shape":[1],"data_offsets":[0,2]}}""", 2), "unknown dtype" },
        };
    }

    [Theory]
    [MemberData(nameof(BrokenShards))]
    public void ForwardOnABrokenShardFailsWithOneLine(string label, byte[] shard, string problem)
    {
        using var model = TinyWithShard(shard);
        var result = CliRunner.InProcess("forward", "--model", model.Path, "--input",
            Path.Combine(TestPaths.TinyGoldens, "prompt_only.seq.json"), "--output", model.File("out.json"), "--device", "cpu");
        CliAssert.OneErrorLine(result, label, "model-00001-of-00002.safetensors", problem, TimeSpan.FromSeconds(1));
        Assert.False(File.Exists(model.File("out.json")));
    }

    [Theory]
    [InlineData("../elsewhere.safetensors", "outside the model directory")]
    [InlineData("model-00009-of-00009.safetensors", "does not exist")]
    public void IndexEntriesOutsideTheDirectoryOrMissingFail(string shard, string problem)
    {
        using var model = TinyWithShard(File.ReadAllBytes(Path.Combine(TestPaths.Tiny, "model-00001-of-00002.safetensors")));
        string index = Path.Combine(model.Path, CheckpointStore.IndexFileName);
        File.WriteAllText(index, File.ReadAllText(index).Replace("model-00002-of-00002.safetensors", shard));
        var result = CliRunner.InProcess("generate", "--model", model.Path, "--input",
            Path.Combine(TestPaths.TinyGoldens, "prompt_only.seq.json"), "--output", model.File("out.json"));
        CliAssert.OneErrorLine(result, shard, CheckpointStore.IndexFileName, problem, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void AChildProcessPrintsOneLineAndNoStackTrace()
    {
        var valid = File.ReadAllBytes(Path.Combine(TestPaths.Tiny, "model-00001-of-00002.safetensors"));
        using var model = TinyWithShard(valid[..(valid.Length / 2)]);
        var result = CliRunner.Process("inspect", "--model", model.Path);
        Assert.NotEqual(0, result.ExitCode);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("model-00001-of-00002.safetensors", lines[0]);
        Assert.DoesNotContain(" at ", result.Stderr);
    }

    [Fact]
    public void BadSequenceFilesNameTheField()
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(temp.File("seq.json"), """{"segments": [{"ids": [1, 2]}, {"embeddings": [[0.5, 1.0]]}]}""");
        var result = CliRunner.InProcess("forward", "--model", TestPaths.Tiny, "--input", temp.File("seq.json"), "--output", temp.File("out.json"));
        CliAssert.OneErrorLine(result, "short embedding row", "seq.json", "segments[1].embeddings[0] has 2 values; hidden_size is 64", TimeSpan.FromSeconds(1));

        File.WriteAllText(temp.File("seq.json"), """{"segments": [{"ids": [1, 5000]}]}""");
        result = CliRunner.InProcess("forward", "--model", TestPaths.Tiny, "--input", temp.File("seq.json"), "--output", temp.File("out.json"));
        CliAssert.OneErrorLine(result, "id out of range", "position 1 (id 5000)", "speech expert", TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void CudaWithoutABackendIsAClearError()
    {
        using var temp = TestPaths.CreateTemp();
        var result = CliRunner.InProcess("forward", "--model", TestPaths.Tiny, "--input",
            Path.Combine(TestPaths.TinyGoldens, "prompt_only.seq.json"), "--output", temp.File("out.json"), "--device", "cuda");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("cuda", result.Stderr);
        Assert.DoesNotContain(" at ", result.Stderr);
    }
}
