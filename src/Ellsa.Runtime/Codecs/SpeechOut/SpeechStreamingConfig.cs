using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// <c>speech_decoder.streaming</c> of ellsa.json: the windowed token-to-wave loop of the authors'
/// evaluation (ev:L237-260 with token2wav's HiFT cache, cv/cli/model.py:L306-310, L324-356). The
/// caches are literals there (8 frames, 8·480 samples: the release's samples per frame, not derived
/// from hift), so they are settings here; the window's look-ahead is the loop's fixed +3/−3.
/// </summary>
public sealed record SpeechStreamingConfig
{
    public const string SectionPath = "speech_decoder.streaming";

    /// <summary>Mel frames kept from a window and fed again in front of the next (model.py:L307).</summary>
    public int MelCacheLen { get; init; } = 8;
    /// <summary>Source and speech samples kept from a window: the next call's source start, and the crossfade's length (model.py:L308).</summary>
    public int SourceCacheLen { get; init; } = 3840;
    /// <summary>The evaluation's step (ev:L239: 5000, one offline call per segment; the commented streaming value is 50).</summary>
    public int WindowStep { get; init; } = 5000;
    /// <summary>Tokens a window reads past its end and the next window starts with (ev:L241-247: the loop's +3 and −3).</summary>
    public int WindowLookahead => FlowConfig.PreLookaheadLen;

    public static readonly string[] Keys = ["mel_cache_len", "source_cache_len", "window_step", "window_lookahead"];

    /// <summary>The section's values; null (no section) gives the release.</summary>
    public static SpeechStreamingConfig Read(JsonSection? section)
    {
        var d = new SpeechStreamingConfig();
        if (section is not { } json)
            return d;
        json.RequireKnownKeys(Keys);
        FlowConfigRules.Fixed(json, "window_lookahead", FlowConfig.PreLookaheadLen, "the loop's +3/−3, evaluate_speech.py:L241-247");
        return new SpeechStreamingConfig
        {
            MelCacheLen = json.Int("mel_cache_len", d.MelCacheLen, 1, 4096),
            SourceCacheLen = json.Int("source_cache_len", d.SourceCacheLen, 1, 1 << 20),
            WindowStep = json.Int("window_step", d.WindowStep, 1, 1 << 20),
        };
    }
}
