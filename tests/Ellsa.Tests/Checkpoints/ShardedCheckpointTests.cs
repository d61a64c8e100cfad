using System.Text.Json;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Checkpoints;

public sealed class ShardedCheckpointTests
{
    private static TensorData Tensor(string name, int values) =>
        new(name, SafetensorsDtype.F32, [values], new byte[values * 4]);

    private static void WriteIndex(string directory, Dictionary<string, string> map) =>
        File.WriteAllText(Path.Combine(directory, CheckpointStore.IndexFileName),
            JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = map }));

    [Fact]
    public void ShardsAreJoinedThroughTheIndex()
    {
        using var temp = TestPaths.CreateTemp();
        var tensors = Enumerable.Range(0, 7).Select(i => Tensor($"layer.{i}", i + 1)).ToList();
        SafetensorsWriter.WriteSharded(temp.Path, tensors, 3);
        using var store = CheckpointStore.Open(temp.Path);
        Assert.True(store.IsSharded);
        Assert.Equal(3, store.Files.Count);
        Assert.Equal(tensors.Select(t => t.Name).Order(), store.Tensors.Keys.Order());
    }

    [Theory]
    [InlineData("../outside.safetensors", "outside the model directory")]
    [InlineData("/etc/passwd", "outside the model directory")]
    [InlineData("sub/dir.safetensors", "outside the model directory")]
    [InlineData("missing.safetensors", "does not exist")]
    public void IndexEntriesMustNameShardsInsideTheDirectory(string shard, string problem)
    {
        using var temp = TestPaths.CreateTemp();
        SafetensorsWriter.Write(temp.File("a.safetensors"), [Tensor("x", 2)]);
        WriteIndex(temp.Path, new() { ["x"] = "a.safetensors", ["y"] = shard });
        var error = Assert.Throws<CheckpointException>(() => CheckpointStore.Open(temp.Path));
        Assert.StartsWith(CheckpointStore.IndexFileName, error.Message);
        Assert.Contains("'y'", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void ATensorMappedToTheWrongShardIsReported()
    {
        using var temp = TestPaths.CreateTemp();
        SafetensorsWriter.Write(temp.File("a.safetensors"), [Tensor("x", 2)]);
        SafetensorsWriter.Write(temp.File("b.safetensors"), [Tensor("y", 2)]);
        WriteIndex(temp.Path, new() { ["x"] = "b.safetensors", ["y"] = "b.safetensors" });
        var error = Assert.Throws<CheckpointException>(() => CheckpointStore.Open(temp.Path));
        Assert.Contains("'x'", error.Message);
        Assert.Contains("does not hold it", error.Message);
    }

    [Fact]
    public void ATensorInTwoShardsIsRejected()
    {
        using var temp = TestPaths.CreateTemp();
        SafetensorsWriter.Write(temp.File("a.safetensors"), [Tensor("x", 2)]);
        SafetensorsWriter.Write(temp.File("b.safetensors"), [Tensor("x", 2), Tensor("y", 1)]);
        WriteIndex(temp.Path, new() { ["x"] = "a.safetensors", ["y"] = "b.safetensors" });
        var error = Assert.Throws<CheckpointException>(() => CheckpointStore.Open(temp.Path));
        Assert.Contains("'x'", error.Message);
        Assert.Contains("also defined", error.Message);
    }

    [Fact]
    public void ABrokenShardIsNamed()
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllBytes(temp.File("a.safetensors"), RawSafetensors.Build(RawSafetensors.ValidHeader, 20));
        WriteIndex(temp.Path, new() { ["a"] = "a.safetensors", ["b"] = "a.safetensors" });
        var error = Assert.Throws<CheckpointException>(() => CheckpointStore.Open(temp.Path));
        Assert.StartsWith("a.safetensors: ", error.Message);
    }

    [Fact]
    public void AnIndexThatIsNotJsonOrRepeatsAKeyIsRejected()
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(temp.File(CheckpointStore.IndexFileName), "{\"weight_map\": {\"a\": \"x\", \"a\": \"y\"}}");
        var error = Assert.Throws<CheckpointException>(() => CheckpointStore.Open(temp.Path));
        Assert.StartsWith(CheckpointStore.IndexFileName, error.Message);
    }
}
