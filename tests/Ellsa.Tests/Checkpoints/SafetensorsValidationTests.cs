using System.Diagnostics;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Checkpoints;

/// <summary>Every validation rule of the reference parser (04-engine-notes.md §6.3), each with its own bad file.</summary>
public sealed class SafetensorsValidationTests
{
    public static TheoryData<string, byte[], string, string?> MalformedFiles() => new()
    {
        { "too small", new byte[5], "HeaderTooSmall", null },
        { "header too large", RawSafetensors.Build("{}", 0, declaredLength: 100_000_001), "HeaderTooLarge", null },
        { "header past end", RawSafetensors.Build(RawSafetensors.ValidHeader, 28, declaredLength: 5000), "InvalidHeaderLength", null },
        { "not utf8", RawSafetensors.Build([0x7B, 0xFF, 0xFE, 0x7D], 0), "UTF-8", null },
        { "not json", RawSafetensors.Build("{\"a\": [1, 2", 0), "not valid JSON", null },
        { "no brace", RawSafetensors.Build("[1, 2]", 0), "does not start with '{'", null },
        { "duplicate", RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4), "twice", null },
        { "unknown dtype", RawSafetensors.Build("""{"a":{"dtype":"Q4_K","shape":[1],"data_offsets":[0,4]}}""", 4), "unknown dtype 'Q4_K'", "a" },
        { "overlap", RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12), "overlaps", "b" },
        { "gap", RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12), "gap", "b" },
        { "not from zero", RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8), "gap", "a" },
        { "size mismatch", RawSafetensors.Build("""{"a":{"dtype":"BF16","shape":[3],"data_offsets":[0,8]}}""", 8), "TensorInvalidInfo", "a" },
        { "overflow", RawSafetensors.Build("""{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}""", 8), "overflows", "a" },
        { "trailing bytes", RawSafetensors.Build(RawSafetensors.ValidHeader, 40), "MetadataIncompleteBuffer", null },
        { "truncated", RawSafetensors.Build(RawSafetensors.ValidHeader, 20), "beyond", "b" },
        { "end before begin", RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}""", 8), "end before they begin", "a" },
        { "bad metadata", RawSafetensors.Build("""{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4), "__metadata__", null },
        { "negative shape", RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4), "non-negative", "a" },
        { "missing offsets", RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[1]}}""", 4), "data_offsets", "a" },
        { "sub-byte misaligned", RawSafetensors.Build("""{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}""", 2), "MisalignedSlice", "a" },
    };

    [Theory]
    [MemberData(nameof(MalformedFiles))]
    public void MalformedFilesAreRejectedWithTheFileTensorAndRule(string label, byte[] bytes, string rule, string? tensor)
    {
        using var temp = TestPaths.CreateTemp();
        string path = temp.File("bad.safetensors");
        File.WriteAllBytes(path, bytes);
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"{label}: took {clock.Elapsed}");
        Assert.StartsWith("bad.safetensors: ", error.Message);
        Assert.Contains(rule, error.Message);
        Assert.DoesNotContain('\n', error.Message);
        if (tensor is not null)
            Assert.Contains($"tensor '{tensor}'", error.Message);
    }

    [Fact]
    public void ValidFilesRoundTripThroughTheWriter()
    {
        using var temp = TestPaths.CreateTemp();
        var random = new Random();
        var tensors = new List<TensorData>();
        foreach (var dtype in new[] { SafetensorsDtype.BF16, SafetensorsDtype.F16, SafetensorsDtype.F32, SafetensorsDtype.I64, SafetensorsDtype.U8 })
        {
            long[] shape = [random.Next(0, 4), random.Next(1, 5)];
            var data = new byte[shape[0] * shape[1] * SafetensorsDtypes.Bits(dtype) / 8];
            random.NextBytes(data);
            tensors.Add(new TensorData($"t.{dtype}", dtype, shape, data));
        }
        tensors.Add(new TensorData("scalar", SafetensorsDtype.F32, [], new byte[4]));
        string path = temp.File("ok.safetensors");
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        using var file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        foreach (var tensor in tensors)
        {
            var entry = file.Entries[tensor.Name];
            Assert.Equal(tensor.Dtype, entry.Dtype);
            Assert.Equal(tensor.Shape, entry.Shape);
            Assert.Equal(tensor.Data, file.Bytes(entry).ToArray());
        }
    }
}
