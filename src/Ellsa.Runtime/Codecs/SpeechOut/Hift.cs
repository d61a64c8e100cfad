using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Shapes;
using Ellsa.Kernels.Ops.TransposedConvolution;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// One HiFT call's results: the waveform (samples_per_frame · frames samples, clamped), the merged
/// harmonic source after any cached prefix was written over it (what a streaming caller keeps the
/// tail of, generator.py:L404-411), the F0 of each frame, and, when asked for, conv_post's output
/// [n_fft + 2, stft frames] channel-major (log-magnitudes then phase arguments).
/// </summary>
public sealed record HiftOutput(float[] Samples, float[] Source, float[] F0, float[]? ConvPost = null);

/// <summary>
/// CosyVoice2's HiFTGenerator (cv/hifigan/generator.py:L222-411), inference only: mel [80, frames]
/// → F0 → harmonic source → STFT of the source; conv_pre, then per upsampling stage leaky ReLU,
/// a transposed conv, the source's STFT downsampled and passed through its ResBlock added in, and
/// the mean of the stage's ResBlocks; leaky ReLU (0.01), conv_post, magnitude and phase, the iSTFT
/// and the clamp. Weight norm is folded at load; activations are fp32, the source's phase double.
/// Loaded from the tensors under <c>speech_expert.generator.hift.</c>, every shape from
/// <see cref="HiftConfig"/>. One call at a time (calls are serialised).
/// </summary>
public sealed class Hift : IDisposable
{
    /// <summary>The authors clip the magnitude e^x at 100 before the iSTFT (generator.py:L342).</summary>
    public const float MaxMagnitude = 100f;
    /// <summary>F.leaky_relu's default slope before conv_post (generator.py:L374), not lrelu_slope.</summary>
    public const float PostSlope = 0.01f;

    private readonly List<IDisposable> _owned;
    private readonly HiftPass _pass;
    private readonly F0Predictor _f0;
    private readonly SineSource _source;
    private readonly HiftStft _stft;
    private readonly Conv _convPre, _convPost;
    private readonly (DeviceMatrix Weight, DeviceTensor Bias)[] _ups;
    private readonly Conv[] _sourceDowns;
    private readonly HiftResBlock[] _sourceResBlocks;
    private readonly HiftResBlock[] _resBlocks;
    private readonly object _gate = new();

    private Hift(HiftConfig config, IComputeBackend backend, WeightScope scope, List<IDisposable> owned)
    {
        Config = config;
        Backend = backend;
        _owned = owned;
        int spectrum = config.SpectrumChannels;
        _f0 = F0Predictor.Load(scope.Pp("f0_predictor"), config.InChannels, config.F0Channels);
        _source = SineSource.Load(scope.Pp("m_source"), config);
        _stft = HiftStft.Create(scope, config.NFft, config.HopLength);
        _convPre = WeightNorm.LoadConv(scope.Pp("conv_pre"), config.InChannels, config.BaseChannels, 7);
        _ups = new (DeviceMatrix, DeviceTensor)[config.Stages];
        _sourceDowns = new Conv[config.Stages];
        _sourceResBlocks = new HiftResBlock[config.Stages];
        int kernels = config.ResblockKernelSizes.Length;
        _resBlocks = new HiftResBlock[config.Stages * kernels];
        for (int i = 0; i < config.Stages; i++)
        {
            int channels = config.StageChannels(i), input = i == 0 ? config.BaseChannels : config.StageChannels(i - 1);
            _ups[i] = WeightNorm.LoadTransposed(scope.Pp("ups").Pp(i), input, channels, config.UpsampleKernelSizes[i]);
            int rate = config.SourceDownRate(i);
            _sourceDowns[i] = Conv.Load(scope.Pp("source_downs").Pp(i), spectrum, channels, [rate == 1 ? 1 : 2 * rate]);
            _sourceResBlocks[i] = HiftResBlock.Load(scope.Pp("source_resblocks").Pp(i), channels,
                config.SourceResblockKernelSizes[i], config.SourceResblockDilationSizes[i]);
            for (int j = 0; j < kernels; j++)
            {
                _resBlocks[i * kernels + j] = HiftResBlock.Load(scope.Pp("resblocks").Pp(i * kernels + j), channels,
                    config.ResblockKernelSizes[j], config.ResblockDilationSizes[j]);
            }
        }
        _convPost = WeightNorm.LoadConv(scope.Pp("conv_post"), config.StageChannels(config.Stages - 1), spectrum, 7);
        _pass = new HiftPass(backend);
    }

    public HiftConfig Config { get; }
    public IComputeBackend Backend { get; }

    /// <summary>When set, each call is timed into it (benchmarks only; see <see cref="SpeechOutTimings"/>).</summary>
    public SpeechOutTimings? Timings { get; set; }
    /// <summary>Output samples per mel frame (480 at the release: 20 ms at 24 kHz).</summary>
    public int SamplesPerFrame => Config.SamplesPerFrame;

    /// <summary>
    /// Binds HiFT's weights from <paramref name="tensors"/> (the model checkpoint or
    /// speech_decoder.safetensors) with the config's shapes; a missing tensor, a shape the config
    /// contradicts or a weight norm that cannot be folded is a <see cref="Checkpoints.CheckpointException"/>
    /// naming the file and tensor.
    /// </summary>
    public static Hift Load(TensorSet tensors, HiftConfig config, IComputeBackend backend, WeightBindings log,
        string prefix = "speech_expert.generator.hift.")
    {
        backend.Require("HiFT", NetworkOp.Unary, NetworkOp.Binary, NetworkOp.Im2Col, NetworkOp.WeightGemm, NetworkOp.OverlapAdd);
        var owned = new List<IDisposable>();
        try
        {
            return new Hift(config, backend, new WeightScope(tensors, backend, log, owned, prefix), owned);
        }
        catch
        {
            foreach (var item in owned)
                item.Dispose();
            throw;
        }
    }

    /// <summary>The waveform of mel [in_channels, frames] (channel-major, as the flow returns it).</summary>
    public float[] Synthesize(ReadOnlySpan<float> mel, int frames, HiftOptions options) => Run(mel, frames, options).Samples;

    /// <summary>
    /// The authors' <c>inference(speech_feat, cache_source)</c>: mel [in_channels, frames]
    /// channel-major; <paramref name="cachedSource"/> (the previous window's source tail, at most
    /// the call's samples) replaces the start of this call's source before the decoder sees it.
    /// </summary>
    public HiftOutput Run(ReadOnlySpan<float> mel, int frames, HiftOptions options, ReadOnlySpan<float> cachedSource = default) =>
        Run(mel, frames, options, cachedSource, keepConvPost: false);

    internal HiftOutput Run(ReadOnlySpan<float> mel, int frames, HiftOptions options, ReadOnlySpan<float> cachedSource, bool keepConvPost)
    {
        ArgumentNullException.ThrowIfNull(options);
        int samples = CheckInput(mel, frames, cachedSource.Length);
        lock (_gate)
        {
            var timings = Timings;
            long start = timings?.Start() ?? 0;
            var pass = _pass;
            int channels = Config.InChannels;
            // The flow hands the mel over channel-major; the layers keep rows per frame, so it goes up transposed.
            var melRows = pass.Take("mel", frames, channels);
            var transposed = new float[mel.Length];
            for (int c = 0; c < channels; c++)
                for (int t = 0; t < frames; t++)
                    transposed[t * channels + c] = mel[c * frames + t];
            Backend.Upload(transposed, melRows);

            var f0 = _f0.Forward(pass, melRows);
            var source = _source.Generate(f0, SamplesPerFrame, options);
            cachedSource.CopyTo(source);
            var spectrum = _stft.Analyze(pass, UploadPadded(pass, source), "source.stft");

            var x = pass.Conv1d(_convPre, HiftPass.ChannelFirst(melRows), "conv_pre", 7, padding: 3);
            for (int i = 0; i < Config.Stages; i++)
                x = Stage(pass, i, x, spectrum);
            Backend.Unary(x, x, new LeakyRelu(PostSlope));
            var post = pass.Conv1d(_convPost, HiftPass.ChannelFirst(x), "conv_post", 7, padding: 3);
            var wave = _stft.Synthesize(pass, Polar(pass, post));
            Backend.Unary(wave, wave, new Clamp(-(float)Config.AudioLimit, (float)Config.AudioLimit));
            var result = new HiftOutput(pass.Download(wave), source, f0, keepConvPost ? ChannelMajor(pass.Download(post), post.Rows, post.Cols) : null);
            if (result.Samples.Length != samples)
                throw new InvalidOperationException($"HiFT produced {result.Samples.Length} samples for {frames} frames, expected {samples}");
            if (timings is not null)
            {
                timings.HiftMs += timings.Since(start);
                timings.HiftSamples += samples;
            }
            return result;
        }
    }

    /// <summary>
    /// One upsampling stage: leaky ReLU and the transposed conv (at the last stage one reflected
    /// sample in front, ReflectionPad1d((1, 0))), the source branch added, the mean of the ResBlocks.
    /// </summary>
    private TensorSlice Stage(HiftPass pass, int i, TensorSlice x, TensorSlice spectrum)
    {
        int channels = Config.StageChannels(i), rate = Config.UpsampleRates[i], kernel = Config.UpsampleKernelSizes[i];
        bool last = i == Config.Stages - 1;
        var spec = OverlapAddSpec.Create(channels, x.Rows, kernel, rate, (kernel - rate) / 2);
        int front = last ? 1 : 0;
        var upsampled = pass.Take("stage.up", spec.OutLength + front, channels);
        TransposedConvolution.Forward(Backend, _ups[i].Weight, TensorView.Of(_ups[i].Bias, channels), HiftPass.ChannelFirst(x), spec,
            HiftPass.ChannelFirst(upsampled.RowRange(front, spec.OutLength)), pass.Conv, new LeakyRelu((float)Config.LreluSlope));
        if (last)
            Shapes.Copy(Backend, upsampled.RowRange(2, 1), upsampled.RowRange(0, 1));

        int down = Config.SourceDownRate(i);
        var fused = pass.Conv1d(_sourceDowns[i], HiftPass.ChannelFirst(spectrum), "stage.source",
            down == 1 ? 1 : 2 * down, stride: down, padding: down == 1 ? 0 : down / 2);
        if (fused.Rows != upsampled.Rows)
            throw new InvalidOperationException($"HiFT stage {i}: the source branch has {fused.Rows} frames, the upsampled mel {upsampled.Rows}");
        _sourceResBlocks[i].Forward(pass, fused, fused);
        pass.AddInto(upsampled, fused);

        int kernels = Config.ResblockKernelSizes.Length;
        var mean = pass.Take("stage.mean", upsampled.Rows, channels);
        for (int j = 0; j < kernels; j++)
        {
            if (j == 0)
            {
                _resBlocks[i * kernels].Forward(pass, upsampled, mean);
                continue;
            }
            var block = pass.Take("stage.block", upsampled.Rows, channels);
            _resBlocks[i * kernels + j].Forward(pass, upsampled, block);
            pass.AddInto(mean, block);
        }
        if (kernels > 1)
            Backend.Unary(mean, mean, new Affine(1f / kernels, 0f));
        return mean;
    }

    /// <summary>conv_post's rows [frames, log-magnitudes | phase arguments] as the iSTFT's [Re | Im] rows.</summary>
    private TensorSlice Polar(HiftPass pass, TensorSlice post)
    {
        int bins = _stft.Bins;
        var spectrum = pass.Take("istft.spectrum", post.Rows, 2 * bins);
        var magnitude = post.Columns(0, bins);
        var phase = post.Columns(bins, bins);
        Backend.Binary(magnitude, phase, spectrum.Columns(0, bins), new PolarReal(MaxMagnitude));
        Backend.Binary(magnitude, phase, spectrum.Columns(bins, bins), new PolarImag(MaxMagnitude));
        return spectrum;
    }

    /// <summary>
    /// The source reflect-padded by n_fft/2 each side (torch.stft's centring), uploaded as rows
    /// [samples + n_fft, 1]; padded on the host, where the source is made, on its way up.
    /// </summary>
    private TensorSlice UploadPadded(HiftPass pass, float[] source)
    {
        int half = Config.NFft / 2;
        var padded = new float[source.Length + 2 * half];
        source.CopyTo(padded, half);
        for (int i = 0; i < half; i++)
        {
            padded[half - 1 - i] = source[i + 1];
            padded[half + source.Length + i] = source[source.Length - 2 - i];
        }
        var rows = pass.Take("source.padded", padded.Length, 1);
        Backend.Upload(padded, rows);
        return rows;
    }

    /// <summary>Throws unless the mel holds in_channels × frames finite values and the call's sizes fit; returns the samples it will give.</summary>
    private int CheckInput(ReadOnlySpan<float> mel, int frames, int cached)
    {
        if (frames < 1)
            throw new ArgumentException($"HiFT needs at least one mel frame, got {frames}");
        long samples = (long)frames * SamplesPerFrame;
        long widest = Enumerable.Range(0, Config.Stages).Max(i => (long)Config.StageChannels(i) * (samples / Config.HopLength + 1));
        if (samples > 1 << 27 || widest > int.MaxValue)
            throw new ArgumentException($"{frames} mel frames ({samples} samples) are too many for one HiFT call; synthesise in windows");
        if (samples / Config.HopLength < 2)
            throw new ArgumentException($"{frames} mel frame gives {samples} samples: the last stage's reflection needs at least two");
        if (mel.Length != (long)Config.InChannels * frames)
            throw new ArgumentException($"the mel has {mel.Length} values, not {Config.InChannels} channels × {frames} frames");
        for (int i = 0; i < mel.Length; i++)
        {
            if (!float.IsFinite(mel[i]))
                throw new ArgumentException($"mel value {i} (channel {i / frames}, frame {i % frames}) is {mel[i]}");
        }
        if (cached > samples)
            throw new ArgumentException($"the cached source has {cached} samples, more than the call's {samples}");
        return (int)samples;
    }

    private static float[] ChannelMajor(float[] rows, int length, int channels)
    {
        var values = new float[rows.Length];
        for (int t = 0; t < length; t++)
            for (int c = 0; c < channels; c++)
                values[c * length + t] = rows[t * channels + c];
        return values;
    }

    public void Dispose()
    {
        Backend.Synchronize();
        _pass?.Dispose();
        foreach (var item in _owned)
            item.Dispose();
        _owned.Clear();
    }
}
