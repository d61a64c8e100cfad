using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// The model's ears, loaded from a model directory: the <c>"speech_encoder"</c> section of
/// <c>ellsa.json</c> and the tensors under <c>speech_expert.speechencoder.*</c> and
/// <c>speech_expert.speech_proj.*</c>, from the component file <c>speech_encoder.safetensors</c>
/// when the directory has one, else from the model checkpoint. A directory holding only that file
/// and ellsa.json is enough to listen. Hands out <see cref="SpeechStream"/>s (PCM → rows) and says
/// how much audio a row waits for.
/// </summary>
public sealed class SpeechListener : IDisposable
{
    public const string ComponentFile = SpeechEncoder.ComponentFileName;
    /// <summary>Every released name of the encoder starts with this; its presence in a checkpoint means the model can listen.</summary>
    public const string EncoderPrefix = "speech_expert.speechencoder.";

    /// <summary>Names the authors' checkpoint holds but the inference path never reads (01-model.md §2.3).</summary>
    private static readonly string[] UnusedOnPurpose =
        [EncoderPrefix + "audio_tagging_proj.", EncoderPrefix + "mask_emb", "speech_expert.ln_speech."];

    private readonly TensorSet _tensors;

    private SpeechListener(TensorSet tensors, SpeechEncoderConfig config, SpeechEncoder encoder, WeightBindings bindings)
    {
        _tensors = tensors;
        Config = config;
        Encoder = encoder;
        Bindings = bindings;
        Lookahead = new SpeechLookahead(config.ChunkSize, config.SegSize, config.OutputDownsamplingFactor);
    }

    public SpeechEncoderConfig Config { get; }
    public SpeechEncoder Encoder { get; }
    public SpeechLookahead Lookahead { get; }
    /// <summary>Every tensor the encoder read, for <c>inspect</c>.</summary>
    public WeightBindings Bindings { get; }
    /// <summary>Where the tensors came from (the component file or the checkpoint directory).</summary>
    public string Source => _tensors.DisplayName;

    /// <summary>Tensors under the speech encoder's names that nothing read (the authors' unused ones excepted).</summary>
    public IReadOnlyList<string> UnusedTensors => Bindings.Unused(_tensors,
        name => !name.StartsWith(EncoderPrefix, StringComparison.Ordinal) && !name.StartsWith("speech_expert.speech_proj.", StringComparison.Ordinal)
            || UnusedOnPurpose.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal)));

    /// <summary>True when the directory has the component file or a checkpoint holding the encoder's tensors.</summary>
    public static bool IsPresent(string directory) => File.Exists(Path.Combine(directory, ComponentFile)) || CheckpointHasEncoder(directory);

    /// <summary>Loads the speech input of a model directory; errors name ellsa.json's field or the file and tensor.</summary>
    public static SpeechListener Load(string directory, IComputeBackend backend)
    {
        if (!Directory.Exists(directory))
            throw new ConfigException($"{directory}: model directory not found");
        var config = ReadConfig(directory);
        var tensors = OpenTensors(directory);
        try
        {
            var bindings = new WeightBindings();
            var encoder = SpeechEncoder.Load(tensors, config, backend, bindings);
            return new SpeechListener(tensors, config, encoder, bindings);
        }
        catch
        {
            tensors.Dispose();
            throw;
        }
    }

    /// <summary>A new stream from sample 0 (fbank's reflected padding applies at its start).</summary>
    public SpeechStream CreateStream() => new(new FbankStream(Config.NumMelBins), Encoder.CreateStream(), Config.NumMelBins);

    /// <summary>Projector rows per second of audio: 100 fbank frames, halved by the subsampling, then grouped.</summary>
    public double RowsPerSecond => 50.0 / (Config.OutputDownsamplingFactor * Config.SegSize);

    /// <summary>The "speech_encoder" section of the directory's ellsa.json (the release's values when the file or section is absent).</summary>
    public static SpeechEncoderConfig ReadConfig(string directory)
    {
        string path = Path.Combine(directory, EllsaSettings.FileName);
        if (!File.Exists(path))
            return SpeechEncoderConfig.Read(null, EllsaSettings.FileName);
        using var document = JsonSection.ParseFile(path);
        var root = new JsonSection(EllsaSettings.FileName, "", document.RootElement);
        return SpeechEncoderConfig.Read(root.Section(SpeechEncoderConfig.SectionName), EllsaSettings.FileName);
    }

    private static TensorSet OpenTensors(string directory)
    {
        string component = Path.Combine(directory, ComponentFile);
        if (File.Exists(component))
            return TensorSet.OpenFile(component, ComponentFile);
        if (!File.Exists(Path.Combine(directory, CheckpointStore.SingleFileName)) && !File.Exists(Path.Combine(directory, CheckpointStore.IndexFileName)))
            throw new CheckpointException(directory, null,
                $"has no {ComponentFile} and no model checkpoint, so there is no speech encoder to listen with");
        var store = CheckpointStore.Open(directory);
        if (!store.Tensors.Keys.Any(name => name.StartsWith(EncoderPrefix, StringComparison.Ordinal)))
        {
            store.Dispose();
            throw new CheckpointException(directory, null,
                $"has no {ComponentFile}, and its checkpoint holds no {EncoderPrefix}* tensors: the model cannot listen");
        }
        return new TensorSet(Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), store.Tensors, store);
    }

    private static bool CheckpointHasEncoder(string directory)
    {
        bool single = File.Exists(Path.Combine(directory, CheckpointStore.SingleFileName));
        if (!single && !File.Exists(Path.Combine(directory, CheckpointStore.IndexFileName)))
            return false;
        using var store = CheckpointStore.Open(directory);
        return store.Tensors.Keys.Any(name => name.StartsWith(EncoderPrefix, StringComparison.Ordinal));
    }

    public void Dispose()
    {
        Encoder.Dispose();
        _tensors.Dispose();
    }
}
