using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// CosyVoice2's speech-token LM (Qwen2LM, cv/llm/llm.py) on the engine's transformer: the Qwen2 body is
/// the one-expert case of <see cref="SequenceState"/> (q/k/v bias, GQA, plain RoPE with the config's
/// θ, final RMSNorm), whose embedding table is <c>speech_embedding</c> (V+3 rows: a sampled token is
/// fed back by id) and whose head is <c>llm_decoder</c> with its bias. <c>llm_embedding</c>'s sos and
/// task_id rows and the text features are spliced in as embedding rows. The Qwen2 <c>embed_tokens</c>
/// (and an untied <c>lm_head</c>) are stored and unused, as in the authors' code. Immutable after
/// loading; each segment runs in a <see cref="SpeechLmStream"/>.
/// </summary>
public sealed class SpeechLm : IExpertModel, IDisposable
{
    public const string DefaultPrefix = "speech_expert.generator.llm.";

    private readonly List<IDisposable> _owned;
    private readonly ExpertWeights[] _experts;
    private int _disposed;

    private SpeechLm(LlmConfig config, IComputeBackend backend, List<IDisposable> owned, ExpertWeights body, float[] sos, float[] taskId)
    {
        Config = config;
        Backend = backend;
        _owned = owned;
        _experts = [body];
        Sos = sos;
        TaskId = taskId;
    }

    public LlmConfig Config { get; }
    public IComputeBackend Backend { get; }
    /// <summary>llm_embedding row 0, which opens every segment.</summary>
    internal float[] Sos { get; }
    /// <summary>llm_embedding row 1, which opens the final (EOS) phase.</summary>
    internal float[] TaskId { get; }

    /// <summary>
    /// Positions one segment can occupy under the driver's rules: sos, the features of at most
    /// ⌊100 / text_chunk⌋ calls, their tokens and task_ids, and the final phase's max_len.
    /// </summary>
    public int MaxSegmentPositions
    {
        get
        {
            int calls = SpeechLmDriver.MaxCalls(Config.TextChunk);
            long features = (long)calls * Config.TextChunk;
            long positions = 2 + features + (long)calls * (Config.AudioChunk + 1) + (long)(features * LlmConfig.MaxTokenTextRatio);
            return checked((int)positions);
        }
    }

    public static SpeechLm Load(TensorSet tensors, LlmConfig config, IComputeBackend backend, WeightBindings log, string prefix = DefaultPrefix)
    {
        var owned = new List<IDisposable>();
        try
        {
            var scope = new WeightScope(tensors, backend, log, owned, prefix);
            var q = config.Qwen2;
            int d = q.HiddenSize, qd = q.Heads * q.HeadDim, kvd = q.KvHeads * q.HeadDim, ff = q.IntermediateSize;
            var embeddings = scope.Floats("llm_embedding.weight", 2, config.LlmInputSize);
            var body = scope.Pp("llm").Pp("model").Pp("model");
            body.Ignore("embed_tokens.weight");
            if (!q.TieWordEmbeddings)
                scope.Pp("llm").Pp("model").Ignore("lm_head.weight");
            var layers = new DeviceLayer[q.Layers];
            for (int l = 0; l < q.Layers; l++)
            {
                var layer = body.Pp("layers").Pp(l);
                var attention = layer.Pp("self_attn");
                var mlp = layer.Pp("mlp");
                layers[l] = new DeviceLayer(
                    InputNorm: layer.Vector("input_layernorm.weight", d),
                    PostNorm: layer.Vector("post_attention_layernorm.weight", d),
                    Qkv: attention.StackedMatrix(d, ("q_proj.weight", qd), ("k_proj.weight", kvd), ("v_proj.weight", kvd)),
                    QkvBias: attention.StackedVector(("q_proj.bias", qd), ("k_proj.bias", kvd), ("v_proj.bias", kvd)),
                    O: attention.Matrix("o_proj.weight", d, qd),
                    GateUp: mlp.StackedMatrix(d, ("gate_proj.weight", ff), ("up_proj.weight", ff)),
                    Down: mlp.Matrix("down_proj.weight", d, ff));
            }
            var weights = ExpertWeights.FromDevice("speech-token LM", q.ToExpertConfig(EllsaSettings.FileName),
                scope.Matrix("speech_embedding.weight", config.DecoderRows, config.LlmInputSize),
                layers,
                body.Vector("norm.weight", d),
                scope.Matrix("llm_decoder.weight", config.DecoderRows, config.LlmOutputSize),
                scope.Vector("llm_decoder.bias", config.DecoderRows));
            return new SpeechLm(config, backend, owned, weights,
                embeddings.AsSpan(0, config.LlmInputSize).ToArray(), embeddings.AsSpan(config.LlmInputSize).ToArray());
        }
        catch
        {
            Owned.DisposeAll(owned);
            throw;
        }
    }

    /// <summary>A stream for one segment at a time, reading hidden rows through <paramref name="projection"/>.</summary>
    public SpeechLmStream CreateStream(GeneratorProjection projection, SpeechLmOptions options)
    {
        ThrowIfDisposed();
        if (projection.Config.OutputSize != Config.LlmInputSize)
            throw new ArgumentException(
                $"generator_proj gives {projection.Config.OutputSize} features per row, the speech LM takes llm_input_size {Config.LlmInputSize}");
        return new SpeechLmStream(this, projection, options);
    }

    internal SequenceState CreateSequence() => new(this, MaxSegmentPositions, Backend.PreferredPrefillRows);

    IReadOnlyList<ExpertWeights> IExpertModel.Experts => _experts;

    int IExpertModel.Route(int id, int current) => 0;

    void IExpertModel.ThrowIfDisposed() => ThrowIfDisposed();

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
            throw new ObjectDisposedException(nameof(SpeechLm), "the speech LM's weights were freed (Dispose); load it again");
    }

    /// <summary>Frees the weights; the caller makes sure no stream is computing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Owned.DisposeAll(_owned);
    }
}
