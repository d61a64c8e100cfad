using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Networks;
using Ellsa.Tests.Support;
using Ellsa.Tests.Vision;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// The speech LM's goldens (lm.safetensors of tests/goldens/speech_out/{small,wide}, written by
/// tests/reference/make_speech_decoder_goldens.py from the authors' Qwen2LM and driver in float64,
/// decoding greedily) and the model directories they came from.
/// </summary>
public static class SpeechLmGoldens
{
    public const string WeightsFile = "speech_decoder.safetensors";

    public static readonly string[] Configs = ["small", "wide"];

    public static string ModelDirectory(string config) => Path.Combine(TestPaths.Root, "tests", "goldens", "speech_out", config);

    public static VisionGoldens.Tensors Lm(string config) => new(Path.Combine(ModelDirectory(config), "lm.safetensors"));

    /// <summary>The cases of a config's lm.safetensors: "n1", "n3", … by hidden rows.</summary>
    public static IEnumerable<string> Cases(string config)
    {
        using var lm = Lm(config);
        var names = Enumerable.Range(0, 1000).Select(n => $"n{n}").Where(n => lm.Has(n + ".tokens")).ToArray();
        return names;
    }

    public static IEnumerable<object[]> AllCases() => Configs.SelectMany(c => Cases(c).Select(n => new object[] { c, n }));

    /// <summary>The "llm" and "generator_proj" subsections of the config's ellsa.json "speech_decoder" section.</summary>
    public static (LlmConfig Llm, GeneratorProjConfig Projection) Configuration(string config)
    {
        using var document = JsonSection.ParseFile(Path.Combine(ModelDirectory(config), EllsaSettings.FileName));
        var section = new JsonSection(EllsaSettings.FileName, "", document.RootElement).Section("speech_decoder")!.Value;
        var llm = LlmConfig.Read(section.Section("llm"), EllsaSettings.FileName);
        var projection = GeneratorProjConfig.Read(section.Section("generator_proj"), EllsaSettings.FileName);
        llm.CheckProjection(projection, EllsaSettings.FileName);
        return (llm, projection);
    }

    /// <summary>A config's projection and LM on a backend, with the tensor set they read.</summary>
    public sealed class Loaded : IDisposable
    {
        public Loaded(string config, IComputeBackend backend)
        {
            Tensors = TensorSet.OpenFile(Path.Combine(ModelDirectory(config), WeightsFile), WeightsFile);
            try
            {
                var (llm, projection) = Configuration(config);
                Projection = GeneratorProjection.Load(Tensors, projection, backend, Bindings);
                Lm = SpeechLm.Load(Tensors, llm, backend, Bindings);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public TensorSet Tensors { get; }
        public WeightBindings Bindings { get; } = new();
        public GeneratorProjection Projection { get; } = null!;
        public SpeechLm Lm { get; } = null!;

        public SpeechLmStream Stream(SpeechLmOptions? options = null) => Lm.CreateStream(Projection, options ?? new SpeechLmOptions { Greedy = true });

        public void Dispose()
        {
            Lm?.Dispose();
            Projection?.Dispose();
            Tensors.Dispose();
        }
    }
}
