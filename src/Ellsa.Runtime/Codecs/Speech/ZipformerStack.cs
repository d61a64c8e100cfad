using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// One encoder stack: Zipformer2Encoder (ZF:1028-1180) or, for downsampling_factor &gt; 1,
/// DownsampledZipformer2Encoder (ZF:1247-1339): SimpleDownsample (softmax(bias)-weighted sums of
/// ds consecutive frames, the last group padded by repeating the last frame), the layers at the
/// lower rate with chunk_size // ds and the same left context in chunks, SimpleUpsample (each frame
/// repeated ds times, cut to the input's length) and out_combiner: x + (up − x)·bypass_scale.
/// </summary>
internal sealed class ZipformerStack
{
    private readonly ZipformerLayer[] _layers;
    private readonly SimpleDownsample? _downsample;
    private readonly DeviceTensor? _combinerScale;

    public ZipformerStack(WeightScope scope, SpeechEncoderConfig config, int index)
    {
        Index = index;
        Dim = config.EncoderDim[index];
        Factor = config.DownsamplingFactor[index];
        Geometry = StackGeometry.For(config.ChunkSize / Factor, config.LeftContextChunks);
        var layersScope = Factor == 1 ? scope : scope.Pp("encoder");
        _layers = Enumerable.Range(0, config.NumEncoderLayers[index])
            .Select(j => new ZipformerLayer(layersScope.Pp("layers").Pp(j), config, index, Geometry))
            .ToArray();
        if (Factor > 1)
        {
            _downsample = new SimpleDownsample(scope.Pp("downsample"), Factor);
            _combinerScale = scope.Pp("out_combiner").Tensor("bypass_scale", Dim);
        }
    }

    public int Index { get; }
    public int Dim { get; }
    public int Factor { get; }
    public StackGeometry Geometry { get; }

    public ZipformerLayer.State[] CreateState(IComputeBackend backend) => _layers.Select(l => l.CreateState(backend)).ToArray();

    /// <summary>
    /// x = stack(x) in place over a step of 50 Hz frames ([n, dim]) starting at a chunk boundary:
    /// whole chunks, or (<paramref name="final"/>) the stream's last frames. <paramref name="totalFrames"/>
    /// counts every 50 Hz frame of the stream up to this step's end (at the final step, the sequence's length).
    /// </summary>
    public void Forward(Workspace ws, TensorSlice x, ZipformerLayer.State[] state, bool final, long totalFrames, SpeechTimings? timings)
    {
        // ChunkCausalDepthwiseConv1d shrinks its chunk to a sequence shorter than one chunk (SC:655-656).
        long atRate = (totalFrames + Factor - 1) / Factor;
        int convChunk = final && atRate < Geometry.Chunk ? (int)atRate : Geometry.Chunk;
        if (Factor == 1)
        {
            for (int j = 0; j < _layers.Length; j++)
                _layers[j].Forward(ws, x, state[j], convChunk, timings);
            return;
        }
        var backend = ws.Backend;
        int n = x.Rows, d = Dim, groups = (n + Factor - 1) / Factor, full = n / Factor, rest = n - full * Factor;
        var low = ws.Rows("stack.downsampled", groups, d);
        _downsample!.Forward(ws, x, low);
        for (int j = 0; j < _layers.Length; j++)
            _layers[j].Forward(ws, low, state[j], convChunk, timings);

        // out_combiner(x, upsample(low)[:n]) = x + (up − x)·scale.
        var difference = ws.Rows("stack.difference", n, d);
        if (full > 0)
            backend.Binary(Repeated(low.RowRange(0, full), Factor), Grouped(x, full, Factor), Grouped(difference, full, Factor), new Subtract());
        if (rest > 0)
            backend.Binary(((TensorView)low.RowRange(full, 1)).BroadcastTo(rest, d), x.RowRange(full * Factor, rest),
                difference.RowRange(full * Factor, rest), new Subtract());
        backend.Binary(difference, TensorView.Of(_combinerScale!, d).BroadcastTo(n, d), difference, new Multiply());
        backend.Binary(x, difference, x, new Add());
    }

    /// <summary>Rows of a slice as [groups, factor, channels].</summary>
    private static TensorView Grouped(TensorSlice rows, int groups, int factor)
    {
        var layout = new ViewLayout { Rank = 3, Offset = rows.Row * rows.Tensor.Cols + rows.Col };
        layout.Set(0, groups, factor * rows.Tensor.Cols);
        layout.Set(1, factor, rows.Tensor.Cols);
        layout.Set(2, rows.Cols, 1);
        return new TensorView(rows.Tensor, layout);
    }

    /// <summary>Each row repeated <paramref name="factor"/> times, as [rows, factor, channels] (SimpleUpsample).</summary>
    private static TensorView Repeated(TensorSlice rows, int factor)
    {
        var layout = new ViewLayout { Rank = 3, Offset = rows.Row * rows.Tensor.Cols + rows.Col };
        layout.Set(0, rows.Rows, rows.Tensor.Cols);
        layout.Set(1, factor, 0);
        layout.Set(2, rows.Cols, 1);
        return new TensorView(rows.Tensor, layout);
    }
}
