using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Networks;
using Ellsa.Tests.Vision;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// The speech LM's goldens (lm.safetensors of <see cref="SpeechOutGoldens"/>' model directories, written
/// from the authors' Qwen2LM and driver in float64, decoding greedily) and its parts of those directories.
/// </summary>
public static class SpeechLmGoldens
{
    public static VisionGoldens.Tensors Lm(string config) => SpeechOutGoldens.Goldens(config, "lm");

    /// <summary>The cases of a config's lm.safetensors: "n1", "n3", … in the order of their hidden rows.</summary>
    public static IEnumerable<string> Cases(string config)
    {
        using var lm = Lm(config);
        return lm.Names.Where(n => n.StartsWith('n') && n.EndsWith(".tokens", StringComparison.Ordinal))
            .Select(n => n[..^".tokens".Length]).OrderBy(n => int.Parse(n[1..])).ToArray();
    }

    public static IEnumerable<object[]> AllCases() => SpeechOutGoldens.Configs.SelectMany(c => Cases(c).Select(n => new object[] { c, n }));

    /// <summary>The "llm" and "generator_proj" subsections of the config's ellsa.json "speech_decoder" section.</summary>
    public static (LlmConfig Llm, GeneratorProjConfig Projection) Configuration(string config)
    {
        using var document = SpeechOutGoldens.Settings(config);
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
            Tensors = SpeechOutGoldens.Weights(config);
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
