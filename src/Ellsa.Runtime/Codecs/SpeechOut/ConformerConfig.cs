using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// <c>speech_decoder.flow.encoder</c>: the UpsampleConformerEncoder's arguments under the authors'
/// names (cosyvoice2.yaml), the release's values by default. The variants are the release's: a
/// linear input layer, espnet's relative positions, pre-norm layers without macaron feed-forward
/// or conv module, swish, a static chunk mask; the pre-lookahead and upsampling sizes are literals
/// in the authors' code and may only be restated.
/// </summary>
public sealed record ConformerConfig
{
    public int OutputSize { get; init; } = 512;
    public int AttentionHeads { get; init; } = 8;
    public int LinearUnits { get; init; } = 2048;
    public int NumBlocks { get; init; } = 6;
    public bool KeyBias { get; init; } = true;
    /// <summary>The token-rate chunk of the attention mask; the up-layers use <see cref="UpStride"/> times it.</summary>
    public int StaticChunkSize { get; init; } = 50;

    /// <summary>Up-layers after the ×2 upsampling (upsample_encoder.py:L231, a literal).</summary>
    public const int NumUpBlocks = 4;
    /// <summary>The upsampling factor (L211, a literal) = token_mel_ratio.</summary>
    public const int UpStride = 2;

    public int HeadDim => OutputSize / AttentionHeads;

    public static readonly string[] Keys =
    [
        "output_size", "attention_heads", "linear_units", "num_blocks", "num_up_blocks", "up_stride", "input_layer", "pos_enc_layer_type",
        "selfattention_layer_type", "activation_type", "normalize_before", "macaron_style", "use_cnn_module", "use_dynamic_chunk", "key_bias",
        "static_chunk_size",
    ];

    /// <param name="inputFrameRate">flow.input_frame_rate: CosyVoice2Model sets static_chunk_size to twice it (model.py:L304).</param>
    public static ConformerConfig Read(JsonSection? section, int inputFrameRate)
    {
        var d = new ConformerConfig();
        if (section is not { } json)
            return d with { StaticChunkSize = 2 * inputFrameRate };
        json.RequireKnownKeys(Keys);
        FlowConfigRules.Fixed(json, "num_up_blocks", NumUpBlocks, "upsample_encoder.py:L231");
        FlowConfigRules.Fixed(json, "up_stride", UpStride, "upsample_encoder.py:L211");
        FlowConfigRules.OneOf(json, "input_layer", "linear");
        FlowConfigRules.OneOf(json, "pos_enc_layer_type", "rel_pos_espnet");
        FlowConfigRules.OneOf(json, "selfattention_layer_type", "rel_selfattn");
        FlowConfigRules.OneOf(json, "activation_type", "swish");
        FlowConfigRules.Fixed(json, "normalize_before", true, "pre-norm layers");
        FlowConfigRules.Fixed(json, "macaron_style", false, "no macaron feed-forward");
        FlowConfigRules.Fixed(json, "use_cnn_module", false, "no conv module");
        // True would draw a random chunk size at every call (mask.py:L198-219).
        FlowConfigRules.Fixed(json, "use_dynamic_chunk", false, "a static chunk mask");
        var config = new ConformerConfig
        {
            OutputSize = json.Int("output_size", d.OutputSize, 2, ConfigBounds.MaxHiddenSize),
            AttentionHeads = json.Int("attention_heads", d.AttentionHeads, 1, ConfigBounds.MaxHeads),
            LinearUnits = json.Int("linear_units", d.LinearUnits, 1, ConfigBounds.MaxIntermediateSize),
            NumBlocks = json.Int("num_blocks", d.NumBlocks, 0, ConfigBounds.MaxLayers),
            KeyBias = json.Bool("key_bias", d.KeyBias),
            StaticChunkSize = FlowConfigRules.Fixed(json, "static_chunk_size", 2 * inputFrameRate,
                "CosyVoice2Model sets it to 2 × flow.input_frame_rate, model.py:L304"),
        };
        if (config.OutputSize % 2 != 0)
            throw json.Bad("output_size", $"is {config.OutputSize}, not even (the relative position encoding pairs sines and cosines)");
        if (config.OutputSize % config.AttentionHeads != 0)
            throw json.Bad("attention_heads", $"is {config.AttentionHeads}, which does not divide output_size {config.OutputSize}");
        return config;
    }
}
