using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// <c>speech_decoder.llm.qwen2</c>: the backbone's config.json (CosyVoice-BlankEN: Qwen2-0.5B). q/k/v
/// carry biases, RoPE is plain rotate-half with <c>rope_theta</c>, the body ends in its final
/// RMSNorm. <c>vocab_size</c> only sizes the stored, unused <c>embed_tokens</c>; the LM reads
/// embeddings and scores with its own tables.
/// </summary>
public sealed record Qwen2Config
{
    public int HiddenSize { get; init; } = 896;
    public int IntermediateSize { get; init; } = 4864;
    public int Layers { get; init; } = 24;
    public int Heads { get; init; } = 14;
    public int KvHeads { get; init; } = 2;
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 1_000_000;
    public int VocabSize { get; init; } = 151936;
    public int MaxPositionEmbeddings { get; init; } = 32768;
    public bool TieWordEmbeddings { get; init; } = true;

    public int HeadDim => HiddenSize / Heads;

    public static readonly string[] Keys =
    [
        "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "rms_norm_eps",
        "rope_theta", "vocab_size", "max_position_embeddings", "tie_word_embeddings", "hidden_act",
    ];

    public static Qwen2Config Read(JsonSection? section)
    {
        if (section is not { } json)
            return new Qwen2Config();
        json.RequireKnownKeys(Keys);
        var d = new Qwen2Config();
        string act = json.String("hidden_act", "silu") ?? "silu";
        if (act != "silu")
            throw json.Bad("hidden_act", $"is \"{act}\"; the engine runs Qwen2's \"silu\" MLP");
        var config = new Qwen2Config
        {
            HiddenSize = json.Int("hidden_size", d.HiddenSize, 2, ConfigBounds.MaxHiddenSize),
            IntermediateSize = json.Int("intermediate_size", d.IntermediateSize, 1, ConfigBounds.MaxIntermediateSize),
            Layers = json.Int("num_hidden_layers", d.Layers, 1, ConfigBounds.MaxLayers),
            Heads = json.Int("num_attention_heads", d.Heads, 1, ConfigBounds.MaxHeads),
            KvHeads = json.Int("num_key_value_heads", d.KvHeads, 1, ConfigBounds.MaxHeads),
            RmsNormEps = json.Number("rms_norm_eps", d.RmsNormEps, positive: true),
            RopeTheta = json.Number("rope_theta", d.RopeTheta, positive: true),
            VocabSize = json.Int("vocab_size", d.VocabSize, 1, ConfigBounds.MaxVocabSize),
            MaxPositionEmbeddings = json.Int("max_position_embeddings", d.MaxPositionEmbeddings, 1, ConfigBounds.MaxPositions),
            TieWordEmbeddings = json.Bool("tie_word_embeddings", d.TieWordEmbeddings),
        };
        if (config.HiddenSize % config.Heads != 0)
            throw json.Bad("hidden_size", $"({config.HiddenSize}) is not a multiple of num_attention_heads ({config.Heads})");
        if (config.HeadDim % 2 != 0)
            throw json.Bad("num_attention_heads", $"gives head dimension {config.HeadDim} (hidden_size / heads), which must be even for RoPE");
        if (config.HeadDim > ConfigBounds.MaxHeadDim)
            throw json.Bad("num_attention_heads", $"gives head dimension {config.HeadDim}, more than {ConfigBounds.MaxHeadDim}");
        if (config.Heads % config.KvHeads != 0)
            throw json.Bad("num_attention_heads", $"({config.Heads}) is not a multiple of num_key_value_heads ({config.KvHeads})");
        return config;
    }

    /// <summary>The body as the engine's transformer takes it: q/k/v bias, plain RoPE.</summary>
    public ExpertConfig ToExpertConfig(string file) => new()
    {
        File = file,
        HiddenSize = HiddenSize,
        IntermediateSize = IntermediateSize,
        Layers = Layers,
        Heads = Heads,
        KvHeads = KvHeads,
        HeadDim = HeadDim,
        RmsNormEps = RmsNormEps,
        RopeTheta = RopeTheta,
        RopeScaling = null,
        VocabSize = VocabSize,
        MaxPositionEmbeddings = MaxPositionEmbeddings,
        QkvBias = true,
    };
}
