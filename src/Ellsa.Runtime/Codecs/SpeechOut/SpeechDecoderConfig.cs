using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// ellsa.json's top-level <c>"speech_decoder"</c> section: the files of the speech output and the
/// configs of its parts (generator_proj, the speech-token LM, the flow, HiFT and the windowed loop)
/// under upstream's names, each read by its own reader, the release's values when absent
/// (tests/goldens/speech_out/README.md, "The proposed ellsa.json section"). A bad key is refused
/// naming ellsa.json and its dotted path.
/// </summary>
public sealed record SpeechDecoderConfig
{
    public const string SectionName = "speech_decoder";
    public const string DefaultWeightsFile = "speech_decoder.safetensors";
    public const string DefaultPromptFile = "speech_prompt.safetensors";

    /// <summary>The component file holding the decoder's tensors, relative to the model directory (else the model checkpoint holds them).</summary>
    public string WeightsFile { get; init; } = DefaultWeightsFile;
    /// <summary>The flow's fixed conditioning (prompt tokens, prompt mel, x-vector, CFM noise), relative to the model directory.</summary>
    public string PromptFile { get; init; } = DefaultPromptFile;
    public GeneratorProjConfig GeneratorProj { get; init; } = new();
    public LlmConfig Llm { get; init; } = new();
    public FlowConfig Flow { get; init; } = new();
    public HiftConfig Hift { get; init; } = new();
    public SpeechStreamingConfig Streaming { get; init; } = new();

    public static readonly string[] Keys = ["weights", "prompt", "generator_proj", "llm", "flow", "hift", "streaming"];

    /// <summary>The section's values; null (no section) gives the release.</summary>
    /// <param name="file">The settings file's name, for errors about the section as a whole.</param>
    public static SpeechDecoderConfig Read(JsonSection? section, string file)
    {
        if (section is not { } json)
            return new SpeechDecoderConfig();
        json.RequireKnownKeys(Keys);
        var config = new SpeechDecoderConfig
        {
            WeightsFile = FileName(json, "weights", DefaultWeightsFile),
            PromptFile = FileName(json, "prompt", DefaultPromptFile),
            GeneratorProj = GeneratorProjConfig.Read(json.Section("generator_proj"), file),
            Llm = LlmConfig.Read(json.Section("llm"), file),
            Flow = FlowConfig.Read(json.Section("flow"), file),
            Hift = HiftConfig.Read(json.Section("hift"), file),
            Streaming = SpeechStreamingConfig.Read(json.Section("streaming")),
        };
        config.Llm.CheckProjection(config.GeneratorProj, file);
        if (config.Llm.SpeechTokenSize != config.Flow.VocabSize)
            throw new ConfigException(
                $"{file}: {SectionName}.llm.speech_token_size ({config.Llm.SpeechTokenSize}) must equal {SectionName}.flow.vocab_size ({config.Flow.VocabSize}): the flow embeds the LM's speech tokens");
        if (config.Hift.InChannels != FlowConfig.MelChannels)
            throw new ConfigException(
                $"{file}: {SectionName}.hift.in_channels is {config.Hift.InChannels}, but the flow gives {FlowConfig.MelChannels} mel channels");
        return config;
    }

    /// <summary>The directory's ellsa.json section (the release's values when the file or the section is absent).</summary>
    public static SpeechDecoderConfig ReadDirectory(string directory)
    {
        string path = Path.Combine(directory, EllsaSettings.FileName);
        if (!File.Exists(path))
            return new SpeechDecoderConfig();
        using var document = JsonSection.ParseFile(path);
        var root = new JsonSection(EllsaSettings.FileName, "", document.RootElement);
        return Read(root.Section(SectionName), EllsaSettings.FileName);
    }

    /// <summary>A plain file name in the model directory: no directories, so a setting cannot point outside it.</summary>
    private static string FileName(JsonSection json, string key, string fallback)
    {
        string name = json.String(key, fallback) ?? fallback;
        if (name.Length == 0 || name != Path.GetFileName(name) || name is "." or "..")
            throw json.Bad(key, $"is \"{name}\"; give a file name in the model directory (no folders)");
        return name;
    }
}
