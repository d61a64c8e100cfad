namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// The arithmetic of the evaluation's speech-LM driver (ev:L204-234) and of
/// <c>inference_salmonn_stream</c> (cv/llm/llm.py:L635-779), written once: how many calls a segment
/// gets, how many tokens each interleaved call decodes, and the final phase's min_len and budget,
/// with the authors' float expressions truncated as Python's int() does.
/// </summary>
public static class SpeechLmDriver
{
    /// <summary>
    /// Calls before the driver's <c>end_idx &gt; 100</c> rule ends a segment: after call k (from 0)
    /// end_idx is (k+2)·text_chunk, so ⌊100 / text_chunk⌋ calls (12 for 8), at least one.
    /// </summary>
    public static int MaxCalls(int textChunk) => Math.Max(1, LlmConfig.StreamTextLimit / textChunk);

    /// <summary>Tokens an interleaved call with <paramref name="features"/> new features decodes: int(min(audio_chunk, ratio·k)) (llm.py:L716).</summary>
    public static int InterleavedTokens(LlmConfig config, int features) => (int)Math.Min(config.AudioChunk, config.Ratio * features);

    /// <summary>Steps before which a drawn EOS is redrawn in the final phase: int(text_len·2) (llm.py:L711), counted from 0 in that call.</summary>
    public static int MinLength(int textLength) => (int)(textLength * LlmConfig.MinTokenTextRatio);

    /// <summary>
    /// The final call's step budget: int(text_len·15) − int(L·(1 − 1/(1 + ratio))), with L the length of
    /// the lm_input the previous call returned (llm.py:L746-747); zero or less decodes nothing.
    /// </summary>
    public static int FinalBudget(LlmConfig config, int textLength, int previousInputLength) =>
        (int)(textLength * LlmConfig.MaxTokenTextRatio) - (int)(previousInputLength * (1 - 1 / (1 + config.Ratio)));
}
