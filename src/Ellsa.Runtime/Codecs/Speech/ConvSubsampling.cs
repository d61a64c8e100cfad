using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Norms;
using Ellsa.Kernels.Ops.Shapes;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// Conv2dSubsampling (SUB:193-331) in eval: fbank (T, mel) → conv 3×3 (freq padded 1) → SwooshR →
/// conv 3×3 stride 2 → SwooshR → conv 3×3 stride (1, 2) → SwooshR → ConvNeXt (depthwise 7×7 padded
/// 3, pointwise ×3, SwooshL, pointwise back, plus its input) → (t, channels·freq) → Linear →
/// BiasNorm: T' = (T − 7) // 2 frames at 50 Hz. Run incrementally: the convs have no time padding,
/// so conv frame t is final once fbank row 2t + 8 exists; the ConvNeXt pads ±3 conv frames with
/// zeros, so output frame j waits for conv frame j + 3, or for the end of the stream.
/// Activations are channel-last ([positions, channels]), so every product is a row GEMM.
/// </summary>
internal sealed class ConvSubsampling
{
    /// <summary>The ConvNeXt's time half-width (kernel (7, 7), padding 3): the lookahead in conv frames.</summary>
    public const int ConvNextReach = 3;
    private const int ConvNextKernel = 7;

    private readonly SpeechEncoderConfig _config;
    private readonly Conv _conv0, _conv4, _conv7;
    private readonly DeviceTensor _depthwiseWeight, _depthwiseBias;
    private readonly Linear _pointwise1, _pointwise2, _out;
    private readonly DeviceTensor _normBias;
    private readonly float _normScale;

    public ConvSubsampling(SpeechEncoderConfig config, WeightScope scope)
    {
        _config = config;
        int l1 = config.Layer1Channels, l2 = config.Layer2Channels, l3 = config.Layer3Channels;
        var conv = scope.Pp("conv");
        // nn.Sequential indices: 0 conv, 1 ScaleGrad, 2 Balancer, 3 SwooshR, 4 conv, 5, 6, 7 conv (SUB:241-279).
        _conv0 = Conv.Load(conv.Pp(0), 1, l1, [3, 3]);
        _conv4 = Conv.Load(conv.Pp(4), l1, l2, [3, 3]);
        _conv7 = Conv.Load(conv.Pp(7), l2, l3, [3, 3]);
        var convnext = scope.Pp("convnext");
        var depthwise = convnext.Pp("depthwise_conv");
        _depthwiseWeight = depthwise.Upload(ChannelsLast(depthwise.Floats("weight", l3, 1, ConvNextKernel, ConvNextKernel), l3));
        _depthwiseBias = depthwise.Tensor("bias", l3);
        _pointwise1 = Pointwise(convnext.Pp("pointwise_conv1"), l3, 3 * l3);
        _pointwise2 = Pointwise(convnext.Pp("pointwise_conv2"), 3 * l3, l3);
        _out = Linear.Load(scope.Pp("out"), l3 * config.EmbedFrequencies, config.EncoderDim[0]);
        var norm = scope.Pp("out_norm");
        _normScale = MathF.Exp(norm.Floats("log_scale")[0]);
        _normBias = norm.Tensor("bias", config.EncoderDim[0]);
    }

    /// <summary>A depthwise kernel [C, taps] stored [taps, C], so the CPU's channel-last path reads each tap's weights contiguously.</summary>
    public static float[] ChannelsLast(float[] weight, int channels)
    {
        int taps = weight.Length / channels;
        var transposed = new float[weight.Length];
        for (int c = 0; c < channels; c++)
            for (int t = 0; t < taps; t++)
                transposed[t * channels + c] = weight[c * taps + t];
        return transposed;
    }

    /// <summary>The [C, taps] view of a kernel uploaded by <see cref="ChannelsLast"/>.</summary>
    public static TensorView KernelView(DeviceTensor kernel, int channels, int taps) => TensorView.Of(kernel, taps, channels).Permute(1, 0);

    private static Linear Pointwise(WeightScope scope, int input, int output) =>
        new(scope.Matrix("weight", output, input, 1, 1), scope.Vector("bias", output));

    public State CreateState(IComputeBackend backend) => new(backend, _config);

    /// <summary>Fbank rows appended to the stream (host values, row-major [frames, mel]).</summary>
    public void Append(State state, ReadOnlySpan<float> rows, int frames)
    {
        if (frames == 0)
            return;
        state.Backend.Upload(rows, state.Fbank.Append(frames));
        state.FbankTotal += frames;
    }

    /// <summary>
    /// Appends to <paramref name="destination"/> (columns 0…encoder_dim[0]) up to
    /// <paramref name="maxFrames"/> encoder input frames that the fbank so far makes final (all the
    /// rest when <paramref name="final"/>: the stream has ended); returns how many.
    /// </summary>
    public int Produce(State state, Workspace ws, ConvWorkspace convWork, RowWindow destination, int maxFrames, bool final)
    {
        int available = SpeechEncoderConfig.EncoderFrames(state.FbankTotal);
        int stop = Math.Min(final ? available : available - ConvNextReach, state.OutNext + maxFrames);
        if (stop <= state.OutNext)
            return 0;
        int needConv = Math.Min(stop + ConvNextReach, available);
        if (needConv > state.ConvTotal)
            ConvFrames(state, ws, convWork, state.ConvTotal, needConv);
        int first = state.OutNext, count = stop - first;
        ConvNext(state, ws, first, stop, destination.Append(count));
        state.OutNext = stop;

        int keepFbankFrom = 2 * state.ConvTotal;
        state.Fbank.KeepLast(checked((int)(state.FbankTotal - keepFbankFrom)), ws);
        state.FbankFirst = keepFbankFrom;
        int keepConvFrom = Math.Max(state.ConvFirst, stop - ConvNextReach);
        state.Conv.KeepLast(state.ConvTotal - keepConvFrom, ws);
        state.ConvFirst = keepConvFrom;
        return count;
    }

    /// <summary>Conv frames [t0, t1) from fbank rows [2·t0, 2·t1 + 7), appended to the conv window.</summary>
    private void ConvFrames(State state, Workspace ws, ConvWorkspace convWork, int t0, int t1)
    {
        var backend = state.Backend;
        int mel = _config.NumMelBins, m = t1 - t0, rows = 2 * m + 7;
        int l1 = _config.Layer1Channels, l2 = _config.Layer2Channels, l3 = _config.Layer3Channels;
        int w4 = (mel - 1) / 2, w = _config.EmbedFrequencies;

        var fbank = TensorView.At(state.Fbank.Tensor, (2 * t0 - state.FbankFirst) * mel, 1, 1, rows, mel);
        var spec0 = ConvSpec.Conv3d(1, 1, rows, mel, (1, 3, 3), (1, 1, 1), (1, 1, 1), (0, 0, 0, 0, 1, 1));
        var a0 = ws.Rows("embed.conv0", spec0.Positions, l1);
        _conv0.Forward(backend, fbank, spec0, ((TensorView)a0).Permute(1, 0), convWork);
        backend.Unary(a0, a0, new SwooshR());

        var spec4 = ConvSpec.Conv3d(l1, 1, rows - 2, mel, (1, 3, 3), (1, 2, 2), (1, 1, 1), default);
        var a1 = ws.Rows("embed.conv4", spec4.Positions, l2);
        _conv4.Forward(backend, ChannelLastMap(a0, l1, rows - 2, mel), spec4, ((TensorView)a1).Permute(1, 0), convWork);
        backend.Unary(a1, a1, new SwooshR());

        var spec7 = ConvSpec.Conv3d(l2, 1, m + 2, w4, (1, 3, 3), (1, 1, 2), (1, 1, 1), default);
        var frames = state.Conv.Append(m);
        var a2 = TensorView.At(frames.Tensor, frames.Row * frames.Tensor.Cols, m * w, l3);
        _conv7.Forward(backend, ChannelLastMap(a1, l2, m + 2, w4), spec7, a2.Permute(1, 0), convWork);
        backend.Unary(a2, a2, new SwooshR());
        state.ConvTotal = t1;
    }

    /// <summary>A channel-last [height·width, channels] block seen as the [C, 1, H, W] input a convolution reads.</summary>
    private static TensorView ChannelLastMap(TensorSlice block, int channels, int height, int width) =>
        TensorView.At(block.Tensor, block.Row * block.Tensor.Cols, 1, height, width, channels).Permute(3, 0, 1, 2);

    /// <summary>ConvNeXt, the channel-major flatten, the Linear and BiasNorm for output frames [j0, j1) into <paramref name="output"/>.</summary>
    private void ConvNext(State state, Workspace ws, int j0, int j1, TensorSlice output)
    {
        var backend = state.Backend;
        int l3 = _config.Layer3Channels, w = _config.EmbedFrequencies, m = j1 - j0, positions = m * w;
        int from = Math.Max(0, j0 - ConvNextReach), to = Math.Min(state.ConvTotal, j1 + ConvNextReach);
        int frameWidth = w * l3;
        var window = TensorView.At(state.Conv.Tensor, (from - state.ConvFirst) * frameWidth, 1, to - from, w, l3).Permute(3, 0, 1, 2);
        var spec = ConvSpec.Conv3d(l3, 1, to - from, w, (1, ConvNextKernel, ConvNextKernel), (1, 1, 1), (1, 1, 1),
            (0, 0, from - (j0 - ConvNextReach), j1 + ConvNextReach - to, ConvNextReach, ConvNextReach));
        var depthwise = ws.Rows("embed.depthwise", positions, l3);
        backend.DepthwiseConv(window, spec, KernelView(_depthwiseWeight, l3, ConvNextKernel * ConvNextKernel),
            TensorView.Of(_depthwiseBias, l3), ((TensorView)depthwise).Permute(1, 0));

        var hidden = ws.Rows("embed.hidden", positions, 3 * l3);
        _pointwise1.Forward(backend, depthwise, hidden);
        backend.Unary(hidden, hidden, new SwooshL());
        var mixed = ws.Rows("embed.mixed", positions, l3);
        _pointwise2.Forward(backend, hidden, mixed);
        var bypass = TensorView.At(state.Conv.Tensor, (j0 - state.ConvFirst) * frameWidth, positions, l3);
        backend.Binary(mixed, bypass, mixed, new Add());

        // x.transpose(1, 2).reshape(b, t, c·f): each frame's features channel-major.
        var flat = ws.Rows("embed.flat", m, frameWidth);
        Shapes.Copy(backend, TensorView.At(mixed.Tensor, 0, m, w, l3).Permute(0, 2, 1), TensorView.At(flat.Tensor, 0, m, l3, w));
        var frames = output.Columns(0, _config.EncoderDim[0]);
        _out.Forward(backend, flat, frames);
        backend.Normalize(frames, frames, NormSpec.BiasNorm(_normScale), null, TensorView.Of(_normBias, _config.EncoderDim[0]));
    }

    /// <summary>A stream's place in the subsampling: the fbank rows and conv frames still needed, and counters.</summary>
    internal sealed class State(IComputeBackend backend, SpeechEncoderConfig config) : IDisposable
    {
        public IComputeBackend Backend => backend;
        public RowWindow Fbank { get; } = new(backend, config.NumMelBins);
        public RowWindow Conv { get; } = new(backend, config.EmbedFrequencies * config.Layer3Channels);
        /// <summary>Absolute index of the first fbank row and conv frame held.</summary>
        public int FbankFirst, ConvFirst;
        public long FbankTotal;
        /// <summary>Conv frames computed, and encoder input frames produced.</summary>
        public int ConvTotal, OutNext;

        public void Dispose()
        {
            Fbank.Dispose();
            Conv.Dispose();
        }
    }
}
