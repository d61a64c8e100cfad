using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// <c>speech_decoder.generator_proj</c> of ellsa.json: the Linear → ReLU → Linear → LayerNorm that
/// turns the speech expert's hidden rows into the speech LM's text features (emu:L2044-2049, where
/// the hidden width 2048 is a literal and the output is the LM's llm_input_size). Release values by
/// default; unknown keys and bad values are refused naming ellsa.json and the dotted key.
/// </summary>
public sealed record GeneratorProjConfig
{
    /// <summary>The speech expert's hidden size (Llama-3.1-8B: 4096).</summary>
    public int InputSize { get; init; } = 4096;
    public int HiddenSize { get; init; } = 2048;
    /// <summary>The LM's llm_input_size.</summary>
    public int OutputSize { get; init; } = 896;
    public double LayerNormEps { get; init; } = 1e-5;

    public static readonly string[] Keys = ["input_size", "hidden_size", "output_size", "layer_norm_eps"];

    /// <summary>The section's values; null (no section) gives the release.</summary>
    /// <param name="file">The settings file's name (the section's own errors carry it already).</param>
    public static GeneratorProjConfig Read(JsonSection? section, string file)
    {
        if (section is not { } json)
            return new GeneratorProjConfig();
        json.RequireKnownKeys(Keys);
        var d = new GeneratorProjConfig();
        return new GeneratorProjConfig
        {
            InputSize = json.Int("input_size", d.InputSize, 1, ConfigBounds.MaxHiddenSize),
            HiddenSize = json.Int("hidden_size", d.HiddenSize, 1, ConfigBounds.MaxIntermediateSize),
            OutputSize = json.Int("output_size", d.OutputSize, 1, ConfigBounds.MaxHiddenSize),
            LayerNormEps = json.Number("layer_norm_eps", d.LayerNormEps, positive: true),
        };
    }
}
