using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// <c>speech_decoder.llm.sampling</c>: CosyVoice2's <c>ras_sampling</c> (cv/utils/common.py:L109-137) with
/// the yaml's top_p / top_k / win_size / tau_r; <c>max_trials</c> is a literal of sampling_ids (llm.py:L149).
/// </summary>
public sealed record SpeechLmSamplingConfig
{
    /// <summary>EOS redraws sampling_ids allows before its RuntimeError (llm.py:L149: 50 in ELLSA's copy, 100 upstream).</summary>
    public const int MaxTrials = 50;

    public double TopP { get; init; } = 0.8;
    public int TopK { get; init; } = 25;
    public int WinSize { get; init; } = 10;
    public double TauR { get; init; } = 0.1;

    public static readonly string[] Keys = ["name", "top_p", "top_k", "win_size", "tau_r", "max_trials"];

    public static SpeechLmSamplingConfig Read(JsonSection? section)
    {
        if (section is not { } json)
            return new SpeechLmSamplingConfig();
        json.RequireKnownKeys(Keys);
        string name = json.String("name", "ras_sampling") ?? "ras_sampling";
        if (name != "ras_sampling")
            throw json.Bad("name", $"is \"{name}\"; the engine implements \"ras_sampling\" (the release's)");
        LlmConfig.Fixed(json, "max_trials", MaxTrials, "sampling_ids' literal, llm.py:L149");
        var d = new SpeechLmSamplingConfig();
        var config = new SpeechLmSamplingConfig
        {
            TopP = json.Number("top_p", d.TopP, positive: true),
            TopK = json.Int("top_k", d.TopK, 1, ConfigBounds.MaxVocabSize),
            WinSize = json.Int("win_size", d.WinSize, 0, 1 << 20),
            TauR = json.Number("tau_r", d.TauR),
        };
        if (config.TopP > 1)
            throw json.Bad("top_p", $"is {config.TopP}, more than 1 (a probability mass)");
        if (config.TauR < 0)
            throw json.Bad("tau_r", $"is {config.TauR}, negative (a fraction of the window)");
        return config;
    }
}
