using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// <c>speech_decoder.llm</c> of ellsa.json: CosyVoice2's Qwen2LM as ELLSA drives it
/// (<c>inference_salmonn_stream</c>, cv/llm/llm.py:L635-779, and the evaluation's driver,
/// ev:L204-234), with its <c>sampling</c> and the backbone's <c>qwen2</c> config. Upstream's names
/// and the release's values by default (tests/goldens/speech_out/README.md, "The proposed
/// ellsa.json section"). Keys the authors' code hard-codes may be restated, not changed; unknown
/// keys and bad values are refused naming ellsa.json and the dotted key.
/// </summary>
public sealed record LlmConfig
{
    /// <summary>inference_salmonn_stream's defaults, which the driver never overrides (llm.py:L648-649).</summary>
    public const double MinTokenTextRatio = 2;
    public const double MaxTokenTextRatio = 15;
    /// <summary>The driver ends a segment once its next text end passes this (ev:L232, <c>end_idx &gt; 100</c>).</summary>
    public const int StreamTextLimit = 100;

    public int LlmInputSize { get; init; } = 896;
    public int LlmOutputSize { get; init; } = 896;
    /// <summary>V: speech tokens 0…V−1; EOS is V, the fill ids V+1 and V+2 (llm_decoder and speech_embedding have V+3 rows).</summary>
    public int SpeechTokenSize { get; init; } = 6561;
    /// <summary>Text features per interleaved call (set by get_speech_generator, emu:L2040).</summary>
    public int TextChunk { get; init; } = 8;
    /// <summary>Speech tokens per full interleaved call (emu:L2041).</summary>
    public int AudioChunk { get; init; } = 25;
    /// <summary>Tokens per text feature in a partial call: the constructor's 15/4, not audio_chunk/text_chunk (llm.py:L288-290).</summary>
    public double Ratio { get; init; } = 3.75;
    public SpeechLmSamplingConfig Sampling { get; init; } = new();
    public Qwen2Config Qwen2 { get; init; } = new();

    public int Eos => SpeechTokenSize;
    /// <summary>Rows of llm_decoder and speech_embedding: the speech tokens, EOS and two fill ids.</summary>
    public int DecoderRows => SpeechTokenSize + 3;

    public static readonly string[] Keys =
    [
        "llm_input_size", "llm_output_size", "speech_token_size", "text_chunk", "audio_chunk", "ratio",
        "min_token_text_ratio", "max_token_text_ratio", "stream_text_limit", "sampling", "qwen2",
    ];

    /// <summary>The section's values; null (no section) gives the release.</summary>
    /// <param name="file">The settings file's name (the section's own errors carry it already).</param>
    public static LlmConfig Read(JsonSection? section, string file)
    {
        if (section is not { } json)
            return new LlmConfig();
        json.RequireKnownKeys(Keys);
        var d = new LlmConfig();
        Fixed(json, "min_token_text_ratio", MinTokenTextRatio, "inference_salmonn_stream's default, llm.py:L649; the driver never passes it");
        Fixed(json, "max_token_text_ratio", MaxTokenTextRatio, "inference_salmonn_stream's default, llm.py:L648; the driver never passes it");
        Fixed(json, "stream_text_limit", StreamTextLimit, "the driver's end_idx > 100, evaluate_speech.py:L232");
        var qwen2 = Qwen2Config.Read(json.Section("qwen2"));
        var config = new LlmConfig
        {
            LlmInputSize = json.Int("llm_input_size", qwen2.HiddenSize, 1, ConfigBounds.MaxHiddenSize),
            LlmOutputSize = json.Int("llm_output_size", qwen2.HiddenSize, 1, ConfigBounds.MaxHiddenSize),
            SpeechTokenSize = json.Int("speech_token_size", d.SpeechTokenSize, 1, ConfigBounds.MaxVocabSize - 3),
            TextChunk = json.Int("text_chunk", d.TextChunk, 1, StreamTextLimit),
            AudioChunk = json.Int("audio_chunk", d.AudioChunk, 1, 4096),
            Ratio = json.Number("ratio", d.Ratio, positive: true),
            Sampling = SpeechLmSamplingConfig.Read(json.Section("sampling")),
            Qwen2 = qwen2,
        };
        // Qwen2Encoder feeds lm_input as inputs_embeds and llm_decoder reads its last hidden state.
        if (config.LlmInputSize != qwen2.HiddenSize)
            throw json.Bad("llm_input_size", $"is {config.LlmInputSize}, but qwen2.hidden_size is {qwen2.HiddenSize}: the Qwen2 body takes the LM's inputs as its hidden states");
        if (config.LlmOutputSize != qwen2.HiddenSize)
            throw json.Bad("llm_output_size", $"is {config.LlmOutputSize}, but qwen2.hidden_size is {qwen2.HiddenSize}: llm_decoder reads the Qwen2 body's last hidden state");
        if (config.Ratio > 4096)
            throw json.Bad("ratio", $"is {config.Ratio}, more than 4096 tokens per text feature");
        if (config.Sampling.TopK > config.DecoderRows)
            throw json.Bad("sampling.top_k", $"is {config.Sampling.TopK}, more than the {config.DecoderRows} ids llm_decoder scores");
        return config;
    }

    /// <summary>generator_proj's rows are the LM's text features, so its output_size must be llm_input_size.</summary>
    /// <param name="file">The settings file's name.</param>
    public void CheckProjection(GeneratorProjConfig projection, string file)
    {
        if (projection.OutputSize != LlmInputSize)
            throw new ConfigException(
                $"{file}: speech_decoder.generator_proj.output_size ({projection.OutputSize}) must equal speech_decoder.llm.llm_input_size ({LlmInputSize}): the projection's rows are the LM's text features");
    }

    /// <summary>A number the authors' code fixes (<paramref name="where"/> says where): restating it is fine, another value is refused.</summary>
    internal static void Fixed(JsonSection json, string key, double value, string where)
    {
        double given = json.Number(key, value);
        if (given != value)
            throw json.Bad(key, $"is {given}, but the authors' code fixes it at {value} ({where})");
    }
}
