using System.Runtime.InteropServices;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Vision;

/// <summary>The vision goldens written by tests/reference/make_vision_goldens.py from the authors' code (see tests/goldens/vision/README.md).</summary>
public static class VisionGoldens
{
    public static string Root => Path.Combine(TestPaths.Root, "tests", "goldens", "vision");

    /// <summary>The two tokenizer configs: the tiny model's and the wide one.</summary>
    public static string Tokenizer(string config) => config == "tiny"
        ? Path.Combine(TestPaths.Tiny, "vision_tokenizer")
        : Path.Combine(Root, "wide", "vision_tokenizer");

    public static IEnumerable<string> Cases => Directory.GetFiles(Path.Combine(Root, "preprocess"), "*.safetensors")
        .Select(f => Path.GetFileNameWithoutExtension(f)).Order();

    public sealed class Tensors : IDisposable
    {
        private readonly SafetensorsFile _file;

        public Tensors(string path) => _file = SafetensorsFile.Open(path);

        public IReadOnlyDictionary<string, string> Metadata => _file.Metadata;

        public bool Has(string name) => _file.Entries.ContainsKey(name);

        public IEnumerable<string> Names => _file.Entries.Keys;

        public long[] Shape(string name) => _file.Entries[name].Shape;

        public float[] Floats(string name) => Read<float>(name, SafetensorsDtype.F32);

        public int[] Ints(string name) => Read<int>(name, SafetensorsDtype.I32);

        public byte[] Bytes(string name) => Read<byte>(name, SafetensorsDtype.U8);

        private T[] Read<T>(string name, SafetensorsDtype dtype) where T : unmanaged
        {
            var entry = _file.Entries[name];
            if (entry.Dtype != dtype)
                throw new InvalidDataException($"{name} is {entry.Dtype}, expected {dtype}");
            return MemoryMarshal.Cast<byte, T>(_file.Bytes(entry)).ToArray();
        }

        public void Dispose() => _file.Dispose();
    }

    public static Tensors Preprocess(string name) => new(Path.Combine(Root, "preprocess", name + ".safetensors"));

    public static Tensors Model(string config, string name) => new(Path.Combine(Root, config, name + ".safetensors"));

    public static void AssertClose(string what, float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double error = Numeric.RelativeL2<float>(actual, expected);
        Assert.True(error <= tolerance, $"{what}: relative L2 {error:E2} > {tolerance:E0}");
    }

    /// <summary>Identical codes, except at near-ties (margin below 1e-3), and at most 1 % of them.</summary>
    public static void AssertCodes(int[] expected, float[] margins, int[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        int differing = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] == actual[i])
                continue;
            differing++;
            Assert.True(margins[i] < 1e-3, $"code {i} is {actual[i]}, the authors' {expected[i]}, with a margin of {margins[i]:E2}");
        }
        Assert.True(differing <= expected.Length / 100, $"{differing} of {expected.Length} codes differ (at most 1 %)");
    }
}
