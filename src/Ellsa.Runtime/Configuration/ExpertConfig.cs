namespace Ellsa.Runtime.Configuration;

/// <summary>Llama-3 "llama3" RoPE rescaling (Hugging Face <c>rope_scaling</c>).</summary>
public sealed record Llama3RopeScaling(double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositionEmbeddings);

/// <summary>
/// One expert's architecture, read from Hugging Face Llama / Emu3 config keys. A key that is
/// absent takes the released ELLSA model's value; an explicit <c>"rope_scaling": null</c> means
/// plain RoPE.
/// </summary>
public sealed record ExpertConfig
{
    public required string File { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required double RmsNormEps { get; init; }
    public required double RopeTheta { get; init; }
    public required Llama3RopeScaling? RopeScaling { get; init; }
    public required int VocabSize { get; init; }
    public required int MaxPositionEmbeddings { get; init; }
    public required bool QkvBias { get; init; }

    public int QueryWidth => Heads * HeadDim;
    public int KvWidth => KvHeads * HeadDim;

    /// <summary>Llama-3.1-8B-Instruct, the speech expert of the release.</summary>
    public static ExpertConfig ReleasedSpeech => new()
    {
        File = "config.json",
        HiddenSize = 4096, IntermediateSize = 14336, Layers = 32, Heads = 32, KvHeads = 8, HeadDim = 128,
        RmsNormEps = 1e-5, RopeTheta = 500000,
        RopeScaling = new Llama3RopeScaling(8, 1, 4, 8192),
        VocabSize = 128256, MaxPositionEmbeddings = 131072, QkvBias = false,
    };

    /// <summary>The Emu3/UniVLA vision/action expert of the release.</summary>
    public static ExpertConfig ReleasedVision => new()
    {
        File = "vision_config.json",
        HiddenSize = 4096, IntermediateSize = 14336, Layers = 32, Heads = 32, KvHeads = 8, HeadDim = 128,
        RmsNormEps = 1e-5, RopeTheta = 1_000_000, RopeScaling = null,
        VocabSize = 184622, MaxPositionEmbeddings = 5120, QkvBias = false,
    };

    public static ExpertConfig Load(string path, ExpertConfig defaults)
    {
        string file = Path.GetFileName(path);
        if (!System.IO.File.Exists(path))
            throw new ConfigException($"{file}: not found in the model directory");
        using var document = JsonSection.ParseFile(path);
        var json = new JsonSection(file, "", document.RootElement);

        int hidden = json.Int("hidden_size", defaults.HiddenSize, 1, ConfigBounds.MaxHiddenSize);
        int heads = json.Int("num_attention_heads", defaults.Heads, 1, ConfigBounds.MaxHeads);
        int kvHeads = json.Int("num_key_value_heads", json.Has("num_attention_heads") ? heads : defaults.KvHeads, 1, ConfigBounds.MaxHeads);
        int headDim = json.Int("head_dim", hidden / heads, 2, ConfigBounds.MaxHeadDim);
        if (!json.Has("head_dim") && hidden % heads != 0)
            throw json.Bad("hidden_size", $"({hidden}) is not a multiple of num_attention_heads ({heads}); give head_dim explicitly");
        if (headDim % 2 != 0)
            throw json.Bad("head_dim", $"must be even for RoPE, got {headDim}");
        if (heads % kvHeads != 0)
            throw json.Bad("num_attention_heads", $"({heads}) is not a multiple of num_key_value_heads ({kvHeads})");

        bool bias = json.Bool("qkv_bias", defaults.QkvBias);
        if (json.Bool("attention_bias", false) && !json.Has("qkv_bias"))
            bias = true;

        return new ExpertConfig
        {
            File = file,
            HiddenSize = hidden,
            IntermediateSize = json.Int("intermediate_size", defaults.IntermediateSize, 1, ConfigBounds.MaxIntermediateSize),
            Layers = json.Int("num_hidden_layers", defaults.Layers, 1, ConfigBounds.MaxLayers),
            Heads = heads,
            KvHeads = kvHeads,
            HeadDim = headDim,
            RmsNormEps = json.Number("rms_norm_eps", defaults.RmsNormEps, positive: true),
            RopeTheta = json.Number("rope_theta", defaults.RopeTheta, positive: true),
            RopeScaling = ReadRopeScaling(json, defaults.RopeScaling),
            VocabSize = json.Int("vocab_size", defaults.VocabSize, 1, ConfigBounds.MaxVocabSize),
            MaxPositionEmbeddings = json.Int("max_position_embeddings", defaults.MaxPositionEmbeddings, 1, ConfigBounds.MaxPositions),
            QkvBias = bias,
        };
    }

    private static Llama3RopeScaling? ReadRopeScaling(JsonSection json, Llama3RopeScaling? fallback)
    {
        if (json.IsNull("rope_scaling"))
            return null;
        if (json.Section("rope_scaling") is not { } scaling)
            return fallback;
        string? type = scaling.String("rope_type", null) ?? scaling.String("type", null);
        if (type is null)
            throw scaling.Bad("rope_type", "is missing (\"llama3\", or \"default\" for plain RoPE; \"rope_scaling\": null also means plain RoPE)");
        if (type == "default")
            return null;
        if (type != "llama3")
            throw scaling.Bad("rope_type", $"'{type}' is not supported (llama3 or default)");
        var fallbackValues = fallback ?? ExpertConfig.ReleasedSpeech.RopeScaling!;
        var result = new Llama3RopeScaling(
            scaling.Number("factor", fallbackValues.Factor, positive: true),
            scaling.Number("low_freq_factor", fallbackValues.LowFreqFactor, positive: true),
            scaling.Number("high_freq_factor", fallbackValues.HighFreqFactor, positive: true),
            scaling.Int("original_max_position_embeddings", fallbackValues.OriginalMaxPositionEmbeddings, min: 1));
        if (result.HighFreqFactor <= result.LowFreqFactor)
            throw scaling.Bad("high_freq_factor", $"({result.HighFreqFactor}) must exceed low_freq_factor ({result.LowFreqFactor})");
        return result;
    }
}
