using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Networks;

namespace Ellsa.Perf;

/// <summary>
/// A model directory's speech decoder for the benchmarks: ellsa.json's "speech_decoder" section
/// (its "weights" and "prompt" files, the parts' sections, "streaming"), read by the parts' own
/// readers, and generator_proj, the speech-token LM, the flow and HiFT loaded on one backend.
/// </summary>
public sealed class SpeechOutModel : IDisposable
{
    private readonly TensorSet _tensors;
    private readonly string _weightsPath;

    private SpeechOutModel(string weightsPath, string displayName)
    {
        _weightsPath = weightsPath;
        _tensors = TensorSet.OpenFile(weightsPath, displayName);
    }

    public GeneratorProjection Projection { get; private set; } = null!;
    public SpeechLm Lm { get; private set; } = null!;
    public Flow Flow { get; private set; } = null!;
    public Hift Hift { get; private set; } = null!;
    public SpeechPrompt Prompt { get; private set; } = null!;
    /// <summary>HiFT's cached mel frames and source samples between windows (streaming.mel_cache_len, source_cache_len).</summary>
    public int MelCache { get; private set; }
    public int SourceCache { get; private set; }
    public long WeightBytes => new FileInfo(_weightsPath).Length;

    public static SpeechOutModel Load(string directory, IComputeBackend backend)
    {
        string file = EllsaSettings.FileName;
        using var document = JsonSection.ParseFile(Path.Combine(directory, file));
        var section = new JsonSection(file, "", document.RootElement).Section("speech_decoder")
            ?? throw new ConfigException($"{file}: no \"speech_decoder\" section in {directory}");
        string weights = section.String("weights", "speech_decoder.safetensors")!;
        string prompt = section.String("prompt", "speech_prompt.safetensors")!;
        var streaming = section.Section("streaming");
        var llm = LlmConfig.Read(section.Section("llm"), file);
        var projection = GeneratorProjConfig.Read(section.Section("generator_proj"), file);
        llm.CheckProjection(projection, file);
        var model = new SpeechOutModel(Path.Combine(directory, weights), weights);
        try
        {
            var log = new WeightBindings();
            model.Projection = GeneratorProjection.Load(model._tensors, projection, backend, log);
            model.Lm = SpeechLm.Load(model._tensors, llm, backend, log);
            model.Flow = Flow.Load(model._tensors, FlowConfig.Read(section.Section("flow"), file), backend, log);
            model.Hift = Hift.Load(model._tensors, HiftConfig.Read(section.Section("hift"), file), backend, log);
            model.Prompt = SpeechPrompt.Load(Path.Combine(directory, prompt));
            model.MelCache = streaming?.Int("mel_cache_len", 8, 0, 1 << 16) ?? 8;
            model.SourceCache = streaming?.Int("source_cache_len", 3840, 0, 1 << 24) ?? 3840;
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Hift?.Dispose();
        Flow?.Dispose();
        Lm?.Dispose();
        Projection?.Dispose();
        _tensors.Dispose();
    }
}
