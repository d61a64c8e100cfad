using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// Zipformer's ConvolutionModule with causal=True (ZF:2327-2381) in eval: in_proj to (x, s),
/// x·sigmoid(s), ChunkCausalDepthwiseConv1d (SC:568-697), SwooshR, out_proj, added to the
/// residual. The depthwise conv is a causal conv of width (k + 1)/2 over the gated frames (zeros
/// before the first) plus a width-k conv inside each chunk (zeros at the chunk's edges), the latter
/// scaled per channel and position by 1 + left_edge + right_edge (<see cref="ChunkScale"/>).
/// Frames arrive in whole chunks; the causal conv's k // 2 frames of history are kept per stream.
/// </summary>
internal sealed class ChunkCausalConvModule
{
    private readonly Linear _inProj, _outProj;
    private readonly DeviceTensor _causalWeight, _causalBias, _chunkWeight, _chunkBias, _scale;
    private readonly float[] _edges;
    private readonly int _dim, _kernel, _chunk;

    public ChunkCausalConvModule(WeightScope scope, int dim, int kernel, int chunk)
    {
        _dim = dim;
        _kernel = kernel;
        _chunk = chunk;
        _inProj = Linear.Load(scope.Pp("in_proj"), dim, 2 * dim);
        _outProj = Linear.Load(scope.Pp("out_proj"), dim, dim);
        var conv = scope.Pp("depthwise_conv");
        int half = (kernel + 1) / 2;
        _causalWeight = conv.Upload(ConvSubsampling.ChannelsLast(conv.Pp("causal_conv").Floats("weight", dim, 1, half), dim));
        _causalBias = conv.Pp("causal_conv").Tensor("bias", dim);
        _chunkWeight = conv.Upload(ConvSubsampling.ChannelsLast(conv.Pp("chunkwise_conv").Floats("weight", dim, 1, kernel), dim));
        _chunkBias = conv.Pp("chunkwise_conv").Tensor("bias", dim);
        _edges = conv.Floats("chunkwise_conv_scale", 2, dim, kernel);
        _scale = conv.Upload(ChunkScale(_edges, dim, kernel, chunk));
    }

    /// <summary>Frames of history the causal conv reads before a step's first frame.</summary>
    public int History => _kernel / 2;

    /// <summary>
    /// _get_chunk_scale(chunk) as [position, channel]: 1 + left_edge[c, pos] (pos &lt; k) +
    /// right_edge[c, pos − chunk + k] (when that index is inside the kernel); a chunk shorter than
    /// the kernel takes the first and the last <paramref name="chunk"/> columns of the edges.
    /// </summary>
    public static float[] ChunkScale(float[] edges, int dim, int kernel, int chunk)
    {
        var scale = new float[chunk * dim];
        for (int pos = 0; pos < chunk; pos++)
        {
            int right = pos - chunk + kernel;
            for (int c = 0; c < dim; c++)
            {
                double value = 1;
                if (pos < kernel)
                    value += edges[c * kernel + pos];
                if (right >= 0 && right < kernel)
                    value += edges[(dim + c) * kernel + right];
                scale[pos * dim + c] = (float)value;
            }
        }
        return scale;
    }

    /// <summary>A stream's history: k // 2 zero frames, as F.pad puts before the first frame.</summary>
    public RowWindow CreateHistory(IComputeBackend backend)
    {
        var history = new RowWindow(backend, _dim);
        history.AppendZeros(History);
        return history;
    }

    /// <summary>
    /// x += module(x) for the rows of a step, which start at a chunk boundary. <paramref name="chunk"/>
    /// is the stack's chunk, or the whole sequence when that is shorter (the authors' shrink).
    /// </summary>
    public void Forward(Workspace ws, TensorSlice x, RowWindow history, int chunk)
    {
        var backend = ws.Backend;
        int n = x.Rows, d = _dim;
        var projected = ws.Rows("conv.in", n, 2 * d);
        _inProj.Forward(backend, x, projected);
        var gate = projected.Columns(d, d);
        backend.Unary(gate, gate, new Sigmoid());
        int start = history.Count;
        var gated = history.Append(n);
        backend.Binary(projected.Columns(0, d), gate, gated, new Multiply());

        // The causal half: kernel (k + 1)/2 over the k // 2 history frames and the new ones, no padding.
        int half = (_kernel + 1) / 2;
        var causal = ws.Rows("conv.causal", n, d);
        backend.DepthwiseConv(Frames(history, start - History, History + n), ConvSpec.Conv1d(d, History + n, half),
            ConvSubsampling.KernelView(_causalWeight, d, half), TensorView.Of(_causalBias, d), ((TensorView)causal).Permute(1, 0));

        // The chunkwise half: whole chunks as an axis of the frames, then the short last chunk.
        var chunked = ws.Rows("conv.chunk", n, d);
        var weight = ConvSubsampling.KernelView(_chunkWeight, d, _kernel);
        var bias = TensorView.Of(_chunkBias, d);
        var scale = chunk == _chunk ? _scale : ShrunkScale(ws, chunk);
        int full = n / chunk, tail = n - full * chunk;
        if (full > 0)
        {
            var chunks = Frames(history, start, full * chunk);
            var layout = chunks.Layout;
            layout.Set(1, full, chunk * d);
            layout.Set(2, 1, 0);
            layout.Set(3, chunk, d);
            var spec = ConvSpec.Conv3d(d, full, 1, chunk, (1, 1, _kernel), (1, 1, 1), (1, 1, 1), (0, 0, 0, 0, _kernel / 2, _kernel / 2));
            var produced = chunked.RowRange(0, full * chunk);
            backend.DepthwiseConv(new TensorView(chunks.Tensor, layout), spec, weight, bias, ((TensorView)produced).Permute(1, 0));
            var perChunk = TensorView.At(produced.Tensor, 0, full, chunk, d);
            backend.Binary(perChunk, TensorView.At(scale, 0, chunk, d).BroadcastTo(full, chunk, d), perChunk, new Multiply());
        }
        if (tail > 0)
        {
            var spec = ConvSpec.Conv1d(d, tail, _kernel, padBefore: _kernel / 2, padAfter: _kernel / 2);
            var produced = chunked.RowRange(full * chunk, tail);
            backend.DepthwiseConv(Frames(history, start + full * chunk, tail), spec, weight, bias, ((TensorView)produced).Permute(1, 0));
            backend.Binary(produced, TensorView.At(scale, 0, tail, d), produced, new Multiply());
        }
        backend.Binary(causal, chunked, causal, new Add());
        backend.Unary(causal, causal, new SwooshR());
        _outProj.AddTo(backend, causal, x);
        history.KeepLast(History, ws);
    }

    /// <summary>Frames [first, first + count) of a window as the [C, 1, 1, count] input of a 1-D conv.</summary>
    private static TensorView Frames(RowWindow window, int first, int count) =>
        TensorView.At(window.Tensor, first * window.Cols, 1, 1, count, window.Cols).Permute(3, 0, 1, 2);

    /// <summary>The scale of a chunk shrunk to a sequence shorter than the stack's chunk, into scratch.</summary>
    private DeviceTensor ShrunkScale(Workspace ws, int chunk)
    {
        var slice = ws.Rows("conv.shrunk-scale", 1, chunk * _dim);
        ws.Backend.Upload(ChunkScale(_edges, _dim, _kernel, chunk), slice);
        return slice.Tensor;
    }
}
