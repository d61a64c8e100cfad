using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// <c>speech_decoder.flow.decoder.estimator</c>: the causal ConditionalDecoder (a 1-D U-Net with
/// transformer blocks) the flow matching integrates, under the authors' names, the release's
/// values by default. The engine runs the release's single-level network (one entry in
/// <c>channels</c>: its down and up "samplers" are causal convs of stride 1; more levels would
/// add Matcha's strided and transposed convs), causal, with exact GELU feed-forwards.
/// </summary>
public sealed record EstimatorConfig
{
    public int Channels { get; init; } = 256;
    public int AttentionHeadDim { get; init; } = 64;
    public int NumHeads { get; init; } = 8;
    public int NBlocks { get; init; } = 4;
    public int NumMidBlocks { get; init; } = 12;
    /// <summary>The frame-rate chunk of the transformer blocks' attention mask.</summary>
    public int StaticChunkSize { get; init; } = 100;

    /// <summary>[x | μ | speaker | prompt condition], 80 channels each; also the width of the sinusoidal time embedding.</summary>
    public const int InChannels = 4 * FlowConfig.MelChannels;

    public int TimeEmbedDim => 4 * Channels;
    public int AttentionWidth => NumHeads * AttentionHeadDim;

    public static readonly string[] Keys =
    [
        "in_channels", "out_channels", "causal", "channels", "dropout", "attention_head_dim", "n_blocks", "num_mid_blocks", "num_heads", "act_fn",
        "static_chunk_size",
    ];

    /// <param name="melChunk">2 × input_frame_rate × token_mel_ratio: what CosyVoice2Model sets (model.py:L305).</param>
    public static EstimatorConfig Read(JsonSection? section, int melChunk)
    {
        var d = new EstimatorConfig();
        if (section is not { } json)
            return d with { StaticChunkSize = melChunk };
        json.RequireKnownKeys(Keys);
        FlowConfigRules.Fixed(json, "in_channels", InChannels, "x, μ, speaker and condition, 80 channels each");
        FlowConfigRules.Fixed(json, "out_channels", FlowConfig.MelChannels, "solve_euler's 80 mel channels, flow_matching.py:L94-99");
        FlowConfigRules.Fixed(json, "causal", true, "the causal estimator of CosyVoice2");
        FlowConfigRules.Number(json, "dropout", 0, 0, 1);
        FlowConfigRules.OneOf(json, "act_fn", "gelu");
        var channels = json.IntArray("channels") ?? [d.Channels];
        if (channels.Length != 1)
            throw json.Bad("channels", $"lists {channels.Length} levels; the engine runs the release's single-level U-Net (one entry)");
        if (channels[0] is < 1 or > ConfigBounds.MaxHiddenSize)
            throw json.Bad("channels[0]", $"is {channels[0]}, outside 1…{ConfigBounds.MaxHiddenSize}");
        var config = new EstimatorConfig
        {
            Channels = channels[0],
            AttentionHeadDim = json.Int("attention_head_dim", d.AttentionHeadDim, 1, ConfigBounds.MaxHeadDim),
            NumHeads = json.Int("num_heads", d.NumHeads, 1, ConfigBounds.MaxHeads),
            NBlocks = json.Int("n_blocks", d.NBlocks, 0, ConfigBounds.MaxLayers),
            NumMidBlocks = json.Int("num_mid_blocks", d.NumMidBlocks, 0, ConfigBounds.MaxLayers),
            StaticChunkSize = FlowConfigRules.Fixed(json, "static_chunk_size", melChunk,
                "CosyVoice2Model sets it to 2 × input_frame_rate × token_mel_ratio, model.py:L305"),
        };
        if (4L * config.Channels > ConfigBounds.MaxIntermediateSize || (long)config.NumHeads * config.AttentionHeadDim > ConfigBounds.MaxIntermediateSize)
            throw json.Bad("channels", $"gives a time embedding of {4L * config.Channels} or attention {(long)config.NumHeads * config.AttentionHeadDim} wide, more than {ConfigBounds.MaxIntermediateSize}");
        return config;
    }
}
