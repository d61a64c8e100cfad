using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// <c>speech_decoder.flow</c> of ellsa.json: CausalMaskedDiffWithXvec (speech tokens → mel) with its
/// encoder, flow matching and estimator, under the authors' names (cosyvoice2.yaml and the
/// constructors' keywords), the release's values by default (tests/goldens/speech_out/README.md,
/// "The proposed ellsa.json section"). Keys the authors' code hard-codes may be restated, not
/// changed; unknown keys, bad values and sizes beyond the bounds are refused naming ellsa.json and
/// the dotted key.
/// </summary>
public sealed record FlowConfig
{
    /// <summary>Mel channels: solve_euler allocates [2, 80, T] (flow_matching.py:L94-99), so output_size is fixed.</summary>
    public const int MelChannels = 80;
    /// <summary>Mel frames per speech token (the encoder's ×2 upsampling).</summary>
    public const int TokenMelRatio = ConformerConfig.UpStride;
    /// <summary>Tokens the pre-lookahead layer reads ahead (upsample_encoder.py:L196); a window that is not the last drops their frames.</summary>
    public const int PreLookaheadLen = 3;
    /// <summary>Euler steps (flow.py:L235 passes 10).</summary>
    public const int Timesteps = 10;

    public int SpkEmbedDim { get; init; } = 192;
    public int VocabSize { get; init; } = 6561;
    public int InputFrameRate { get; init; } = 25;
    public ConformerConfig Encoder { get; init; } = new();
    public CfmConfig Cfm { get; init; } = new();
    public EstimatorConfig Estimator { get; init; } = new();

    /// <summary>The embedding width: the encoder's (up_embed reads the up-layer's output).</summary>
    public int InputSize => Encoder.OutputSize;

    public static readonly string[] Keys =
    [
        "input_size", "output_size", "spk_embed_dim", "output_type", "vocab_size", "input_frame_rate", "token_mel_ratio", "pre_lookahead_len",
        "n_timesteps", "encoder", "decoder",
    ];

    public static readonly string[] DecoderKeys = ["in_channels", "n_spks", "spk_emb_dim", "cfm_params", "estimator"];

    /// <summary>The section's values; null (no section) gives the release.</summary>
    /// <param name="file">The settings file's name (the section's own errors carry it already).</param>
    public static FlowConfig Read(JsonSection? section, string file)
    {
        if (section is not { } json)
            return new FlowConfig();
        json.RequireKnownKeys(Keys);
        var d = new FlowConfig();
        int frameRate = json.Int("input_frame_rate", d.InputFrameRate, 1, 1000);
        FlowConfigRules.Fixed(json, "output_size", MelChannels, "solve_euler's 80 mel channels, flow_matching.py:L94-99");
        FlowConfigRules.OneOf(json, "output_type", "mel");
        FlowConfigRules.Fixed(json, "token_mel_ratio", TokenMelRatio, "the encoder's ×2 upsampling, upsample_encoder.py:L211");
        FlowConfigRules.Fixed(json, "pre_lookahead_len", PreLookaheadLen, "PreLookaheadLayer's literal, upsample_encoder.py:L196");
        FlowConfigRules.Fixed(json, "n_timesteps", Timesteps, "flow.py:L235");
        var encoder = ConformerConfig.Read(json.Section("encoder"), frameRate);
        FlowConfigRules.Fixed(json, "input_size", encoder.OutputSize, "up_embed reads the up-layer's output: input_size = encoder.output_size");

        var decoder = json.Section("decoder");
        decoder?.RequireKnownKeys(DecoderKeys);
        if (decoder is { } dec)
        {
            // ConditionalCFM stores these and never reads them at inference; the estimator's widths are its own.
            dec.Int("in_channels", 240, 1, ConfigBounds.MaxHiddenSize);
            dec.Int("n_spks", 1, 0, ConfigBounds.MaxHiddenSize);
            dec.Int("spk_emb_dim", MelChannels, 1, ConfigBounds.MaxHiddenSize);
        }
        var config = new FlowConfig
        {
            SpkEmbedDim = json.Int("spk_embed_dim", d.SpkEmbedDim, 1, ConfigBounds.MaxHiddenSize),
            VocabSize = json.Int("vocab_size", d.VocabSize, 1, ConfigBounds.MaxVocabSize),
            InputFrameRate = frameRate,
            Encoder = encoder,
            Cfm = CfmConfig.Read(decoder?.Section("cfm_params")),
            Estimator = EstimatorConfig.Read(decoder?.Section("estimator"), 2 * frameRate * TokenMelRatio),
        };
        return config;
    }
}
