using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// The model's voice, loaded from a model directory: the <c>"speech_decoder"</c> section of
/// ellsa.json, the tensors under <c>speech_expert.generator_proj.*</c> and
/// <c>speech_expert.generator.{llm,flow,hift}.*</c> (from the component file, speech_decoder.safetensors
/// unless the section names another, when the directory has it, else from the model checkpoint), and
/// the flow's conditioning file speech_prompt.safetensors. A directory holding only those files and
/// ellsa.json can speak. Owns generator_proj, the speech-token LM, the flow and HiFT; hands out
/// <see cref="SpeechLmStream"/>s (hidden rows → speech tokens) and <see cref="TokenToWaveStream"/>s
/// (speech tokens → waveform).
/// </summary>
public sealed class SpeechSpeaker : IDisposable
{
    public const string GeneratorProjPrefix = GeneratorProjection.DefaultPrefix;
    public const string GeneratorPrefix = "speech_expert.generator.";

    private readonly TensorSet _tensors;
    private int _disposed;

    private SpeechSpeaker(TensorSet tensors, SpeechDecoderConfig config, SpeechPrompt prompt, WeightBindings bindings,
        GeneratorProjection projection, SpeechLm lm, Flow flow, Hift hift)
    {
        _tensors = tensors;
        Config = config;
        Prompt = prompt;
        Bindings = bindings;
        Projection = projection;
        Lm = lm;
        Flow = flow;
        Hift = hift;
        MinimumWindowStep = TokenToWaveStream.MinimumStep(prompt, config.Streaming, hift.SamplesPerFrame);
    }

    public SpeechDecoderConfig Config { get; }
    public SpeechPrompt Prompt { get; }
    public GeneratorProjection Projection { get; }
    public SpeechLm Lm { get; }
    public Flow Flow { get; }
    public Hift Hift { get; }
    /// <summary>Output samples per second (hift.sampling_rate; 24 000 at the release).</summary>
    public int SampleRate => Config.Hift.SamplingRate;
    /// <summary>The smallest window step the windowed loop runs exactly with this prompt and these caches.</summary>
    public int MinimumWindowStep { get; }
    /// <summary>Every tensor the four networks read, for <c>inspect</c>.</summary>
    public WeightBindings Bindings { get; }
    /// <summary>Where the tensors came from (the component file or the checkpoint directory).</summary>
    public string Source => _tensors.DisplayName;

    /// <summary>Tensors under the decoder's names that nothing read (Qwen2's unused embed_tokens is bound as ignored).</summary>
    public IReadOnlyList<string> UnusedTensors => Bindings.Unused(_tensors, name => !IsDecoderTensor(name));

    /// <summary>
    /// True when the directory has the prompt file and either the component file or a checkpoint
    /// holding the decoder's tensors (the file names from ellsa.json when it names them).
    /// </summary>
    public static bool IsPresent(string directory)
    {
        var (weights, prompt) = FileNames(directory);
        return File.Exists(Path.Combine(directory, prompt))
               && (File.Exists(Path.Combine(directory, weights)) || CheckpointHasDecoder(directory));
    }

    /// <summary>
    /// Loads the speech output of a model directory; a bad config names ellsa.json and the dotted key,
    /// a missing file or tensor, or a tensor whose shape the config contradicts, names the file and tensor.
    /// </summary>
    public static SpeechSpeaker Load(string directory, IComputeBackend backend)
    {
        if (!Directory.Exists(directory))
            throw new ConfigException($"{directory}: model directory not found");
        var config = SpeechDecoderConfig.ReadDirectory(directory);
        string promptPath = Path.Combine(directory, config.PromptFile);
        if (!File.Exists(promptPath))
            throw new CheckpointException(config.PromptFile, null,
                $"is missing from {directory}: the flow's conditioning (prompt_token, prompt_feat, embedding, cfm_noise) is needed to speak; " +
                "tests/reference/make_speech_prompt.py makes it from the released CosyVoice2 assets");
        var prompt = SpeechPrompt.Load(promptPath);
        CheckPrompt(prompt, config.Flow);
        var tensors = OpenTensors(directory, config.WeightsFile);
        var owned = new List<IDisposable>();
        try
        {
            var bindings = new WeightBindings();
            var projection = Own(owned, GeneratorProjection.Load(tensors, config.GeneratorProj, backend, bindings));
            var lm = Own(owned, SpeechLm.Load(tensors, config.Llm, backend, bindings));
            var flow = Own(owned, Flow.Load(tensors, config.Flow, backend, bindings));
            var hift = Own(owned, Hift.Load(tensors, config.Hift, backend, bindings));
            return new SpeechSpeaker(tensors, config, prompt, bindings, projection, lm, flow, hift);
        }
        catch
        {
            for (int i = owned.Count - 1; i >= 0; i--)
                owned[i].Dispose();
            tensors.Dispose();
            throw;
        }
    }

    /// <summary>A speech-LM stream for one segment at a time (hidden rows through generator_proj, then the LM).</summary>
    public SpeechLmStream CreateLmStream(SpeechLmOptions options)
    {
        ThrowIfDisposed();
        return Lm.CreateStream(Projection, options);
    }

    /// <summary>The windowed token-to-wave loop with <paramref name="step"/> tokens per window, or offline (null).</summary>
    public TokenToWaveStream CreateWaveStream(int? step, HiftOptions options)
    {
        ThrowIfDisposed();
        return new TokenToWaveStream(Flow, Hift, Prompt, Config.Streaming, step, options);
    }

    /// <summary>The mel of a whole segment's tokens, one offline flow call: [80, frames] channel-major.</summary>
    public FlowOutput Mel(ReadOnlySpan<int> tokens)
    {
        ThrowIfDisposed();
        return Flow.Infer(tokens, Prompt, finalize: true);
    }

    /// <summary>A whole segment's tokens to its mel and waveform in one offline call (no windows, no cache).</summary>
    public WavePiece Synthesize(ReadOnlySpan<int> tokens, HiftOptions options)
    {
        var stream = CreateWaveStream(null, options);
        stream.Feed(tokens);
        return stream.Finish();
    }

    private static T Own<T>(List<IDisposable> owned, T item) where T : IDisposable
    {
        owned.Add(item);
        return item;
    }

    /// <summary>The prompt against the flow's config, before any weight loads: its ids in the vocabulary, its x-vector the flow's width.</summary>
    private static void CheckPrompt(SpeechPrompt prompt, FlowConfig flow)
    {
        int outOfRange = Array.FindIndex(prompt.Tokens, id => id >= flow.VocabSize);
        if (outOfRange >= 0)
            throw new CheckpointException(prompt.FileName, SpeechPrompt.TokenName,
                $"holds id {prompt.Tokens[outOfRange]} at position {outOfRange}, outside speech_decoder.flow.vocab_size {flow.VocabSize}");
        if (prompt.Embedding.Length != flow.SpkEmbedDim)
            throw new CheckpointException(prompt.FileName, SpeechPrompt.EmbeddingName,
                $"has {prompt.Embedding.Length} values, but speech_decoder.flow.spk_embed_dim is {flow.SpkEmbedDim}");
    }

    private static bool IsDecoderTensor(string name) =>
        name.StartsWith(GeneratorPrefix, StringComparison.Ordinal) || name.StartsWith(GeneratorProjPrefix, StringComparison.Ordinal);

    /// <summary>The component and prompt file names ellsa.json gives (defaults when it names none or cannot be read: Load then reports why).</summary>
    private static (string Weights, string Prompt) FileNames(string directory)
    {
        try
        {
            var config = SpeechDecoderConfig.ReadDirectory(directory);
            return (config.WeightsFile, config.PromptFile);
        }
        catch (ConfigException)
        {
            return (SpeechDecoderConfig.DefaultWeightsFile, SpeechDecoderConfig.DefaultPromptFile);
        }
    }

    private static TensorSet OpenTensors(string directory, string componentFile)
    {
        string component = Path.Combine(directory, componentFile);
        if (File.Exists(component))
            return TensorSet.OpenFile(component, componentFile);
        if (!File.Exists(Path.Combine(directory, CheckpointStore.SingleFileName)) && !File.Exists(Path.Combine(directory, CheckpointStore.IndexFileName)))
            throw new CheckpointException(directory, null, $"has no {componentFile} and no model checkpoint, so there is no speech decoder to speak with");
        var store = CheckpointStore.Open(directory);
        if (!store.Tensors.Keys.Any(IsDecoderTensor))
        {
            store.Dispose();
            throw new CheckpointException(directory, null,
                $"has no {componentFile}, and its checkpoint holds no {GeneratorPrefix}* or {GeneratorProjPrefix}* tensors: the model cannot speak");
        }
        return new TensorSet(Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), store.Tensors, store);
    }

    private static bool CheckpointHasDecoder(string directory)
    {
        if (!File.Exists(Path.Combine(directory, CheckpointStore.SingleFileName)) && !File.Exists(Path.Combine(directory, CheckpointStore.IndexFileName)))
            return false;
        using var store = CheckpointStore.Open(directory);
        return store.Tensors.Keys.Any(IsDecoderTensor);
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
            throw new ObjectDisposedException(nameof(SpeechSpeaker), "the speech decoder's weights were freed (Dispose); load it again");
    }

    /// <summary>Frees the four networks and closes the tensors; the caller makes sure no stream is computing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Hift.Dispose();
        Flow.Dispose();
        Lm.Dispose();
        Projection.Dispose();
        _tensors.Dispose();
    }
}
