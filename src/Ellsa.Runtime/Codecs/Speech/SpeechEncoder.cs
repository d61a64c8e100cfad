using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// What an utterance's encoding produced: the encoder's output (50 Hz frames of the widest stack's
/// width, before stacking; 25 Hz with output_downsampling_factor 2) and the projector's rows.
/// </summary>
public sealed record SpeechEncoding(float[] Encoder, int EncoderFrames, float[] Embeddings, int Rows);

/// <summary>
/// The speech input path of the model (01-model.md §4): fbank frames → Conv2dSubsampling → the
/// causal Zipformer2 → seg_size frames side by side → the projector, as the authors' encode_speech
/// (MIX:2057-2077) runs it in eval, on random or released weights under their names (§2.3).
/// Activations are fp32; weights stay in their stored dtype. The encoder holds only weights and may
/// serve several streams at once; each <see cref="SpeechEncoderStream"/> keeps its own state. The
/// tensor set must stay open while the encoder is used (the CPU backend reads weights in place).
/// </summary>
public sealed class SpeechEncoder : IDisposable
{
    public const string ComponentFileName = "speech_encoder.safetensors";

    private readonly List<IDisposable> _owned = [];

    private SpeechEncoder(SpeechEncoderConfig config, IComputeBackend backend, WeightScope scope)
    {
        Config = config;
        Backend = backend;
        var encoder = scope.Pp("speechencoder");
        Subsampling = new ConvSubsampling(config, encoder.Pp("encoder_embed"));
        var zipformer = encoder.Pp("encoder");
        Encoder = new ZipformerEncoder(Enumerable.Range(0, config.Stacks)
            .Select(i => new ZipformerStack(zipformer.Pp("encoders").Pp(i), config, i))
            .ToArray());
        if (config.OutputDownsamplingFactor > 1)
            OutputDownsample = new SimpleDownsample(zipformer.Pp("downsample_output"), config.OutputDownsamplingFactor);
        Projector = SpeechProjector.Load(scope.Pp("speech_proj"), config);
        // Read by the authors' model but without effect on its output (MIX:2067, MultiKDModel's training heads).
        foreach (string unused in new[] { "weight", "bias" })
        {
            scope.Pp("ln_speech").Ignore(unused);
            encoder.Pp("audio_tagging_proj").Pp(1).Ignore(unused);
        }
        encoder.Ignore("mask_emb");
    }

    public SpeechEncoderConfig Config { get; }
    public IComputeBackend Backend { get; }
    internal ConvSubsampling Subsampling { get; }
    internal ZipformerEncoder Encoder { get; }
    internal SimpleDownsample? OutputDownsample { get; }
    internal SpeechProjector Projector { get; }

    /// <summary>
    /// Binds the encoder's weights from <paramref name="tensors"/> (the model checkpoint or
    /// <see cref="ComponentFileName"/>) with the config's shapes; a missing tensor or a shape the
    /// config contradicts is a <see cref="Checkpoints.CheckpointException"/> naming the file and tensor.
    /// </summary>
    public static SpeechEncoder Load(TensorSet tensors, SpeechEncoderConfig config, IComputeBackend backend, WeightBindings log,
        string prefix = "speech_expert.")
    {
        backend.Require("the speech encoder", NetworkOp.Unary, NetworkOp.Binary, NetworkOp.Normalize, NetworkOp.Convolution,
            NetworkOp.WeightGemm, NetworkOp.Attention, NetworkOp.DepthwiseConv);
        var owned = new List<IDisposable>();
        try
        {
            var encoder = new SpeechEncoder(config, backend, new WeightScope(tensors, backend, log, owned, prefix));
            encoder._owned.AddRange(owned);
            return encoder;
        }
        catch
        {
            foreach (var item in owned)
                item.Dispose();
            throw;
        }
    }

    /// <summary>A new stream over this encoder's weights, with its own state.</summary>
    public SpeechEncoderStream CreateStream() => new(this, keepEncoderFrames: false);

    /// <summary>
    /// The authors' whole-utterance encoding of row-major fbank [frames, num_mel_bins]: the
    /// encoder's frames and every projector row (the last one zero-padded to seg_size frames).
    /// </summary>
    public SpeechEncoding EncodeOffline(ReadOnlySpan<float> fbank, int frames)
    {
        if (frames < 9)
            throw new ArgumentException($"{frames} fbank frames give no encoder frame: the subsampling needs at least 9 (about 0.09 s of audio)");
        using var stream = new SpeechEncoderStream(this, keepEncoderFrames: true);
        var rows = new List<float[]>();
        stream.Push(fbank, frames, rows);
        stream.Finish(rows);
        var embeddings = new float[rows.Count * Config.OutputDim];
        for (int r = 0; r < rows.Count; r++)
            rows[r].CopyTo(embeddings, r * Config.OutputDim);
        return new SpeechEncoding(stream.EncoderOutput.ToArray(), stream.EncoderFrames, embeddings, rows.Count);
    }

    public void Dispose()
    {
        Backend.Synchronize();
        foreach (var item in _owned)
            item.Dispose();
        _owned.Clear();
    }
}
