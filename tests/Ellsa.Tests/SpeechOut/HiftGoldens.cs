using System.Text.Json;
using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Networks;
using Ellsa.Tests.Support;
using Ellsa.Tests.Vision;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// The speech-output goldens (tests/goldens/speech_out, written by tests/reference/make_speech_decoder_goldens.py
/// from the authors' CosyVoice2 modules in float64) as HiFT's tests read them.
/// </summary>
public static class HiftGoldens
{
    public const string WeightsFile = "speech_decoder.safetensors";

    public static string Root => Path.Combine(TestPaths.Root, "tests", "goldens", "speech_out");

    /// <summary>"small" (the release's structure at small width) and "wide" (other rates, n_fft, harmonics, BF16 weights).</summary>
    public static readonly string[] Configs = ["small", "wide"];

    public static string Directory(string config) => Path.Combine(Root, config);

    public static VisionGoldens.Tensors Golden(string config, string name) => new(Path.Combine(Directory(config), name + ".safetensors"));

    /// <summary>The offline cases' names (n3, n16, …) in the order of their token counts.</summary>
    public static IReadOnlyList<string> OfflineCases(string config)
    {
        using var offline = Golden(config, "offline");
        return offline.Names.Where(n => n.EndsWith(".wave", StringComparison.Ordinal))
            .Select(n => n[..^".wave".Length]).OrderBy(n => int.Parse(n[1..])).ToArray();
    }

    /// <summary>A config's ellsa.json "speech_decoder" section as a JSON element (the caller keeps the document alive).</summary>
    public static JsonDocument Settings(string config) => JsonSection.ParseFile(Path.Combine(Directory(config), EllsaSettings.FileName));

    /// <summary>The "speech_decoder.hift" section of a config's ellsa.json.</summary>
    public static HiftConfig Config(string config)
    {
        using var document = Settings(config);
        var root = new JsonSection(EllsaSettings.FileName, "", document.RootElement);
        return HiftConfig.Read(root.Section("speech_decoder")!.Value.Section("hift"), EllsaSettings.FileName);
    }

    /// <summary>streaming.source_cache_len and mel_cache_len of a config (the windowed loop's caches).</summary>
    public static (int SourceCache, int MelCache) Caches(string config)
    {
        using var document = Settings(config);
        var streaming = document.RootElement.GetProperty("speech_decoder").GetProperty("streaming");
        return (streaming.GetProperty("source_cache_len").GetInt32(), streaming.GetProperty("mel_cache_len").GetInt32());
    }

    /// <summary>A config's HiFT on a backend, with the tensor set it reads (dispose both).</summary>
    public static (Hift Hift, TensorSet Tensors) Load(string config, IComputeBackend backend, HiftConfig? settings = null)
    {
        var tensors = TensorSet.OpenFile(Path.Combine(Directory(config), WeightsFile), WeightsFile);
        try
        {
            return (Hift.Load(tensors, settings ?? Config(config), backend, new WeightBindings()), tensors);
        }
        catch
        {
            tensors.Dispose();
            throw;
        }
    }
}
