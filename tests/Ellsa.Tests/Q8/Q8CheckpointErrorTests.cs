using System.Text.Json.Nodes;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Moe;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Q8;

/// <summary>A converted checkpoint with broken q8 tensors is refused at load, naming the tensor and the rule it breaks.</summary>
public sealed class Q8CheckpointErrorTests
{
    [Fact]
    public void AValueOfMinus128IsRefused()
    {
        using var temp = Converted(out string dir, out string target);
        Rewrite(dir, target, tensors => tensors.Select(t => t.Name == target ? t with { Data = WithByte(t.Data, 5, 0x80) } : t).ToList());
        var error = Assert.Throws<CheckpointException>(() => SaMoeModel.Load(dir, SharedBackends.Cpu).Dispose());
        Assert.Contains(target, error.Message);
        Assert.Contains("-128", error.Message);
    }

    [Fact]
    public void ANonFiniteScaleIsRefused()
    {
        using var temp = Converted(out string dir, out string target);
        string scales = target + ".q8_scale";
        Rewrite(dir, target, tensors => tensors.Select(t => t.Name == scales ? t with { Data = WithByte(WithByte(t.Data, 2, 0x00), 3, 0x7C) } : t).ToList());
        var error = Assert.Throws<CheckpointException>(() => SaMoeModel.Load(dir, SharedBackends.Cpu).Dispose());
        Assert.Contains(scales, error.Message);
        Assert.Contains("non-finite", error.Message);
    }

    [Fact]
    public void MissingScalesAreRefused()
    {
        using var temp = Converted(out string dir, out string target);
        string scales = target + ".q8_scale";
        Rewrite(dir, target, tensors => tensors.Where(t => t.Name != scales).ToList());
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, CheckpointStore.IndexFileName)))!;
        index["weight_map"]!.AsObject().Remove(scales);
        File.WriteAllText(Path.Combine(dir, CheckpointStore.IndexFileName), index.ToJsonString());
        var error = Assert.Throws<CheckpointException>(() => SaMoeModel.Load(dir, SharedBackends.Cpu).Dispose());
        Assert.Contains(target, error.Message);
        Assert.Contains("q8_scale", error.Message);
    }

    /// <summary>weights/tiny converted into a temporary directory; <paramref name="target"/> is one of its q8 tensors.</summary>
    private static TempDirectory Converted(out string dir, out string target)
    {
        var temp = TestPaths.CreateTemp();
        dir = Path.Combine(temp.Path, "q8");
        var result = CliRunner.InProcess("quantize", "--model", TestPaths.Tiny, "--output", dir);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var store = CheckpointStore.Open(dir);
        target = store.Tensors.Values.First(t => t.Entry.Dtype == SafetensorsDtype.I8 && t.Name.Contains("down_proj")).Name;
        return temp;
    }

    /// <summary>Rewrites the shard holding <paramref name="tensor"/> with its tensors edited.</summary>
    private static void Rewrite(string dir, string tensor, Func<List<TensorData>, List<TensorData>> edit)
    {
        string shard;
        List<TensorData> tensors;
        using (var store = CheckpointStore.Open(dir))
        {
            var file = store.Tensors[tensor].File;
            shard = file.Path;
            tensors = file.Entries.Values.Select(e => new TensorData(e.Name, e.Dtype, e.Shape, file.Bytes(e).ToArray())).ToList();
        }
        SafetensorsWriter.Write(shard, edit(tensors));
    }

    private static byte[] WithByte(byte[] data, int index, byte value)
    {
        var copy = (byte[])data.Clone();
        copy[index] = value;
        return copy;
    }
}
