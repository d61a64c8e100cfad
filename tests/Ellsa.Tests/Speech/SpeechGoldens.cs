using System.Text.Json;
using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Networks;
using Ellsa.Tests.Support;
using Ellsa.Tests.Vision;

namespace Ellsa.Tests.Speech;

/// <summary>The speech goldens written by tests/reference/make_speech_goldens.py from lhotse's and the authors' code (see tests/goldens/speech/README.md).</summary>
public static class SpeechGoldens
{
    public static string Root => Path.Combine(TestPaths.Root, "tests", "goldens", "speech");

    /// <summary>The encoder configs: "small" (the release's structure at small width) and "wide".</summary>
    public static readonly string[] Configs = ["small", "wide"];

    public static string ModelDirectory(string config) => Path.Combine(Root, config, "model");

    public static VisionGoldens.Tensors Clips() => new(Path.Combine(Root, "clips.safetensors"));

    public static VisionGoldens.Tensors Outputs(string config) => new(Path.Combine(Root, config, "outputs.safetensors"));

    /// <summary>Every clip's name, in the order clips.safetensors' metadata lists them.</summary>
    public static IReadOnlyList<string> ClipNames()
    {
        using var clips = Clips();
        using var list = JsonDocument.Parse(clips.Metadata["clips"]);
        return list.RootElement.EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToArray();
    }

    /// <summary>The "speech_encoder" section of a config's ellsa.json.</summary>
    public static SpeechEncoderConfig Config(string config) => SpeechListener.ReadConfig(ModelDirectory(config));

    /// <summary>A config's encoder on a backend, with the tensor set it reads (dispose both).</summary>
    public static (SpeechEncoder Encoder, TensorSet Tensors) Load(string config, IComputeBackend backend)
    {
        var tensors = TensorSet.OpenFile(Path.Combine(ModelDirectory(config), SpeechEncoder.ComponentFileName), SpeechEncoder.ComponentFileName);
        try
        {
            return (SpeechEncoder.Load(tensors, Config(config), backend, new WeightBindings()), tensors);
        }
        catch
        {
            tensors.Dispose();
            throw;
        }
    }
}
