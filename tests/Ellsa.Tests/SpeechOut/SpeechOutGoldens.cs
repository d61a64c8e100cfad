using System.Text.Json;
using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Networks;
using Ellsa.Tests.Support;
using Ellsa.Tests.Vision;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// The speech-output goldens written by tests/reference/make_speech_decoder_goldens.py from the
/// authors' CosyVoice2 modules in float64 (see tests/goldens/speech_out/README.md): two model
/// directories, "small" (the release's structure at small width, F16 matrices) and "wide" (other
/// rates and widths, BF16 matrices).
/// </summary>
public static class SpeechOutGoldens
{
    public const string WeightsFile = "speech_decoder.safetensors";
    public const string PromptFile = "speech_prompt.safetensors";

    public static string Root => Path.Combine(TestPaths.Root, "tests", "goldens", "speech_out");

    public static readonly string[] Configs = ["small", "wide"];

    public static string ModelDirectory(string config) => Path.Combine(Root, config);

    /// <summary>The config's "speech_decoder" section of its ellsa.json, as a parsed document (dispose it).</summary>
    public static JsonDocument Settings(string config) => JsonSection.ParseFile(Path.Combine(ModelDirectory(config), EllsaSettings.FileName));

    public static FlowConfig FlowConfig(string config)
    {
        using var document = Settings(config);
        var root = new JsonSection(EllsaSettings.FileName, "", document.RootElement);
        return Runtime.Codecs.SpeechOut.FlowConfig.Read(root.Section("speech_decoder")!.Value.Section("flow"), EllsaSettings.FileName);
    }

    /// <summary>An integer of the "speech_decoder" section, by path (streaming.mel_cache_len).</summary>
    public static int SettingsInt(string config, params string[] path)
    {
        using var document = Settings(config);
        var element = document.RootElement.GetProperty("speech_decoder");
        foreach (string key in path)
            element = element.GetProperty(key);
        return element.GetInt32();
    }

    public static SpeechPrompt Prompt(string config) => SpeechPrompt.Load(Path.Combine(ModelDirectory(config), PromptFile));

    public static TensorSet Weights(string config) => TensorSet.OpenFile(Path.Combine(ModelDirectory(config), WeightsFile), WeightsFile);

    /// <summary>A config's flow on a backend, with the tensor set it reads (dispose both).</summary>
    public static (Flow Flow, TensorSet Tensors) LoadFlow(string config, IComputeBackend backend)
    {
        var tensors = Weights(config);
        try
        {
            return (Flow.Load(tensors, FlowConfig(config), backend, new WeightBindings()), tensors);
        }
        catch
        {
            tensors.Dispose();
            throw;
        }
    }

    public static HiftConfig HiftConfig(string config)
    {
        using var document = Settings(config);
        var root = new JsonSection(EllsaSettings.FileName, "", document.RootElement);
        return Runtime.Codecs.SpeechOut.HiftConfig.Read(root.Section("speech_decoder")!.Value.Section("hift"), EllsaSettings.FileName);
    }

    /// <summary>A config's HiFT on a backend (with <paramref name="settings"/> instead of its own section when given), with the tensor set it reads (dispose both).</summary>
    public static (Hift Hift, TensorSet Tensors) LoadHift(string config, IComputeBackend backend, HiftConfig? settings = null)
    {
        var tensors = Weights(config);
        try
        {
            return (Hift.Load(tensors, settings ?? HiftConfig(config), backend, new WeightBindings()), tensors);
        }
        catch
        {
            tensors.Dispose();
            throw;
        }
    }

    /// <summary>The offline cases' names (n3, n16, …) in the order of their token counts.</summary>
    public static IReadOnlyList<string> OfflineCases(string config)
    {
        using var offline = Goldens(config, "offline");
        return offline.Names.Where(n => n.EndsWith(".wave", StringComparison.Ordinal))
            .Select(n => n[..^".wave".Length]).OrderBy(n => int.Parse(n[1..])).ToArray();
    }

    /// <summary>(config, case) of every offline case of both configs, for theories.</summary>
    public static TheoryData<string, string> OfflineCaseData()
    {
        var data = new TheoryData<string, string>();
        foreach (string config in Configs)
            foreach (string name in OfflineCases(config))
                data.Add(config, name);
        return data;
    }

    /// <summary>(config, name) of every tensor of golden file <paramref name="file"/> named NAME + <paramref name="suffix"/>, both configs, names in ordinal order.</summary>
    public static TheoryData<string, string> CaseData(string file, string suffix)
    {
        var data = new TheoryData<string, string>();
        foreach (string config in Configs)
        {
            using var goldens = Goldens(config, file);
            foreach (string name in goldens.Names.Where(n => n.EndsWith(suffix, StringComparison.Ordinal)).Select(n => n[..^suffix.Length]).Order(StringComparer.Ordinal))
                data.Add(config, name);
        }
        return data;
    }

    public static VisionGoldens.Tensors Goldens(string config, string name) => new(Path.Combine(ModelDirectory(config), name + ".safetensors"));

    /// <summary>[rows, cols] row-major transposed to [cols, rows].</summary>
    public static float[] Transpose(float[] values, int rows, int cols)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                result[c * rows + r] = values[r * cols + c];
        return result;
    }
}
