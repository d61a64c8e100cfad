using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Attention;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Norms;
using Ellsa.Kernels.Ops.Shapes;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// One Zipformer2EncoderLayer (ZF:770-906) in eval, over a step of new frames that starts at a
/// chunk boundary of its stack. Attention weights come from one score computation per group of
/// query chunks (q·k + positional scores, chunk-causal mask with masked scores −1000, no 1/√d) and
/// serve NonlinAttention (head 0), SelfAttention1 and SelfAttention2; each recomputes its softmax
/// from the same scores, which is cheaper than keeping [heads, queries, keys] weights. Per stream
/// the layer keeps the left context's keys, NonlinAttention inputs and both value sets as rows of
/// one window (<see cref="State"/>), and each conv module's history.
/// </summary>
internal sealed class ZipformerLayer
{
    private const float MaskedScore = -1000f;

    private readonly StackGeometry _geometry;
    private readonly int _dim, _heads, _queryDim, _posDim, _valueDim, _nonlinDim;
    private readonly Linear _attentionIn, _attention1In, _attention1Out, _attention2In, _attention2Out;
    private readonly Linear _nonlinIn, _nonlinOut;
    private readonly FeedForward _ff1, _ff2, _ff3;
    private readonly ChunkCausalConvModule _conv1, _conv2;
    private readonly RelativePositionScores _positions;
    private readonly DeviceTensor _bypassMid, _bypass, _normBias;
    private readonly float _normScale;

    // Columns of a state window row: q | k | p (the attention in_proj), NonlinAttention's x·tanh(s), values 1, values 2.
    private readonly int _keyCol, _posCol, _nonlinCol, _value1Col, _value2Col, _windowCols;

    public ZipformerLayer(WeightScope scope, SpeechEncoderConfig config, int stack, StackGeometry geometry)
    {
        _geometry = geometry;
        _dim = config.EncoderDim[stack];
        _heads = config.NumHeads[stack];
        _queryDim = config.QueryHeadDim[stack];
        _posDim = config.PosHeadDim[stack];
        _valueDim = config.ValueHeadDim[stack];
        _nonlinDim = 3 * _dim / 4;
        int d = _dim, h = _heads, ff = config.FeedforwardDim[stack];

        var weights = scope.Pp("self_attn_weights");
        _attentionIn = Linear.Load(weights.Pp("in_proj"), d, (2 * _queryDim + _posDim) * h);
        _positions = RelativePositionScores.Load(weights.Pp("linear_pos"), config.PosDim, h, _posDim, geometry.History, geometry.GroupRows);
        _attention1In = Linear.Load(scope.Pp("self_attn1").Pp("in_proj"), d, h * _valueDim);
        _attention1Out = Linear.Load(scope.Pp("self_attn1").Pp("out_proj"), h * _valueDim, d);
        _attention2In = Linear.Load(scope.Pp("self_attn2").Pp("in_proj"), d, h * _valueDim);
        _attention2Out = Linear.Load(scope.Pp("self_attn2").Pp("out_proj"), h * _valueDim, d);
        _ff1 = FeedForward.Load(scope.Pp("feed_forward1"), d, ff * 3 / 4);
        _ff2 = FeedForward.Load(scope.Pp("feed_forward2"), d, ff);
        _ff3 = FeedForward.Load(scope.Pp("feed_forward3"), d, ff * 5 / 4);
        _nonlinIn = Linear.Load(scope.Pp("nonlin_attention").Pp("in_proj"), d, 3 * _nonlinDim);
        _nonlinOut = Linear.Load(scope.Pp("nonlin_attention").Pp("out_proj"), _nonlinDim, d);
        _conv1 = new ChunkCausalConvModule(scope.Pp("conv_module1"), d, config.CnnModuleKernel[stack], geometry.Chunk);
        _conv2 = new ChunkCausalConvModule(scope.Pp("conv_module2"), d, config.CnnModuleKernel[stack], geometry.Chunk);
        // The layer's own bypass_scale is a leftover the authors never read ("TODO: remove it").
        scope.Ignore("bypass_scale");
        _bypassMid = scope.Pp("bypass_mid").Tensor("bypass_scale", d);
        _bypass = scope.Pp("bypass").Tensor("bypass_scale", d);
        var norm = scope.Pp("norm");
        _normScale = MathF.Exp(norm.Floats("log_scale")[0]);
        _normBias = norm.Tensor("bias", d);

        _keyCol = h * _queryDim;
        _posCol = 2 * h * _queryDim;
        _nonlinCol = _posCol + h * _posDim;
        _value1Col = _nonlinCol + _nonlinDim;
        _value2Col = _value1Col + h * _valueDim;
        _windowCols = _value2Col + h * _valueDim;
    }

    public State CreateState(IComputeBackend backend) =>
        new(new RowWindow(backend, _windowCols), _conv1.CreateHistory(backend), _conv2.CreateHistory(backend));

    /// <summary>
    /// x = layer(x) in place for a step's rows ([n, dim], the stack's frames from a chunk boundary).
    /// <paramref name="convChunk"/> is the stack's chunk, or the whole sequence when that is shorter.
    /// </summary>
    public void Forward(Workspace ws, TensorSlice x, State state, int convChunk, SpeechTimings? timings = null)
    {
        var backend = ws.Backend;
        int n = x.Rows, d = _dim;
        long start = timings?.Start() ?? 0;
        var original = ws.Rows("layer.original", n, d);
        Shapes.Copy(backend, x, original);

        int history = state.Window.Count;
        var rows = state.Window.Append(n);
        var window = state.Window.Tensor;
        timings?.Add(LayerPart.Rest, start);

        start = timings?.Start() ?? 0;
        _attentionIn.Forward(backend, x, rows.Columns(0, _nonlinCol));
        var scores = ws.Rows("layer.position-scores", n, _positions.Width);
        _positions.Scores(backend, rows.Columns(_posCol, _heads * _posDim), scores);
        timings?.Add(LayerPart.Attention, start);

        start = timings?.Start() ?? 0;
        _ff1.AddTo(ws, x);
        timings?.Add(LayerPart.FeedForward, start);

        // NonlinAttention (ZF:2120-2165) with head 0's weights: s, x, y = in_proj; x·tanh(s) is what the weights mix.
        start = timings?.Start() ?? 0;
        var nonlin = ws.Rows("layer.nonlin-in", n, 3 * _nonlinDim);
        _nonlinIn.Forward(backend, x, nonlin);
        var s = nonlin.Columns(0, _nonlinDim);
        backend.Unary(s, s, new Tanh());
        backend.Binary(nonlin.Columns(_nonlinDim, _nonlinDim), s, rows.Columns(_nonlinCol, _nonlinDim), new Multiply());
        var mixed = ws.Rows("layer.nonlin-mixed", n, _nonlinDim);
        Attend(ws, window, history, n, scores, heads: 1, _nonlinCol, _nonlinDim, mixed);
        backend.Binary(mixed, nonlin.Columns(2 * _nonlinDim, _nonlinDim), mixed, new Multiply());
        _nonlinOut.AddTo(backend, mixed, x);
        timings?.Add(LayerPart.NonlinAttention, start);

        start = timings?.Start() ?? 0;
        var attended = ws.Rows("layer.attended", n, _heads * _valueDim);
        _attention1In.Forward(backend, x, rows.Columns(_value1Col, _heads * _valueDim));
        Attend(ws, window, history, n, scores, _heads, _value1Col, _valueDim, attended);
        _attention1Out.AddTo(backend, attended, x);
        timings?.Add(LayerPart.Attention, start);

        start = timings?.Start() ?? 0;
        _conv1.Forward(ws, x, state.Conv1, convChunk);
        timings?.Add(LayerPart.Convolution, start);
        start = timings?.Start() ?? 0;
        _ff2.AddTo(ws, x);
        timings?.Add(LayerPart.FeedForward, start);
        start = timings?.Start() ?? 0;
        Bypass(backend, original, x, _bypassMid);
        timings?.Add(LayerPart.Rest, start);

        start = timings?.Start() ?? 0;
        _attention2In.Forward(backend, x, rows.Columns(_value2Col, _heads * _valueDim));
        Attend(ws, window, history, n, scores, _heads, _value2Col, _valueDim, attended);
        _attention2Out.AddTo(backend, attended, x);
        timings?.Add(LayerPart.Attention, start);

        start = timings?.Start() ?? 0;
        _conv2.Forward(ws, x, state.Conv2, convChunk);
        timings?.Add(LayerPart.Convolution, start);
        start = timings?.Start() ?? 0;
        _ff3.AddTo(ws, x);
        timings?.Add(LayerPart.FeedForward, start);
        start = timings?.Start() ?? 0;
        backend.Normalize(x, x, NormSpec.BiasNorm(_normScale), null, TensorView.Of(_normBias, d));
        Bypass(backend, original, x, _bypass);

        state.Window.KeepLast(_geometry.History, ws);
        timings?.Add(LayerPart.Rest, start);
    }

    /// <summary>x = original + (x − original)·scale (BypassModule in eval), in place.</summary>
    public static void Bypass(IComputeBackend backend, TensorSlice original, TensorSlice x, DeviceTensor scale)
    {
        backend.Binary(x, original, x, new Subtract());
        backend.Binary(x, TensorView.Of(scale, x.Cols).BroadcastTo(x.Rows, x.Cols), x, new Multiply());
        backend.Binary(x, original, x, new Add());
    }

    /// <summary>
    /// softmax(q·k + positional scores, chunk-masked) · v for the step's queries, in groups of query
    /// chunks, each over the keys its chunks may see (its left context and its own chunks):
    /// window rows [history, history + n) are the queries, rows before them the kept history.
    /// </summary>
    private void Attend(Workspace ws, DeviceTensor window, int history, int n, TensorSlice scores, int heads, int valueCol, int valueDim,
        TensorSlice output)
    {
        var g = _geometry;
        for (int first = 0; first < n; first += g.GroupRows)
        {
            int queries = Math.Min(g.GroupRows, n - first);
            int firstKey = Math.Max(0, history + first - g.History);
            int keys = history + first + queries - firstKey;
            var spec = new AttentionSpec
            {
                Heads = heads, KvHeads = heads, Scale = 1f, Mask = AttentionMask.Chunk, ChunkSize = g.Chunk, LeftChunks = g.LeftChunks,
                QueryOffset = history + first - firstKey, MaskedScore = MaskedScore,
            };
            ws.Backend.Attention(
                HeadView(window, history + first, queries, 0, heads, _queryDim),
                HeadView(window, firstKey, keys, _keyCol, heads, _queryDim),
                HeadView(window, firstKey, keys, valueCol, heads, valueDim),
                HeadView(output.Tensor, output.Row + first, queries, output.Col, heads, valueDim),
                spec,
                _positions.Bias(scores, first, queries, keys, firstKey - (history + first), heads));
        }
    }

    /// <summary>Rows of a tensor's column block seen as [rows, heads, dim].</summary>
    private static TensorView HeadView(DeviceTensor tensor, int row, int rows, int col, int heads, int dim)
    {
        var layout = new ViewLayout { Rank = 3, Offset = row * tensor.Cols + col };
        layout.Set(0, rows, tensor.Cols);
        layout.Set(1, heads, dim);
        layout.Set(2, dim, 1);
        return new TensorView(tensor, layout);
    }

    /// <summary>A stream's state for the layer: the attention window and the two conv histories.</summary>
    internal sealed record State(RowWindow Window, RowWindow Conv1, RowWindow Conv2) : IDisposable
    {
        public void Dispose()
        {
            Window.Dispose();
            Conv1.Dispose();
            Conv2.Dispose();
        }
    }
}

/// <summary>FeedforwardModule (ZF:2021-2061): Linear → SwooshL → Linear, added to the residual.</summary>
internal sealed class FeedForward(Linear inProj, Linear outProj)
{
    public static FeedForward Load(WeightScope scope, int dim, int hidden) =>
        new(Linear.Load(scope.Pp("in_proj"), dim, hidden), Linear.Load(scope.Pp("out_proj"), hidden, dim));

    public void AddTo(Workspace ws, TensorSlice x)
    {
        var hidden = ws.Rows("ff.hidden", x.Rows, inProj.OutFeatures);
        inProj.Forward(ws.Backend, x, hidden, new SwooshL());
        outProj.AddTo(ws.Backend, hidden, x);
    }
}

/// <summary>
/// A stack's chunk arithmetic at its own frame rate: chunk_size // downsampling frames per chunk,
/// the left context in whole chunks, and how many query chunks one attention call takes.
/// </summary>
internal readonly record struct StackGeometry(int Chunk, int LeftChunks, int GroupChunks)
{
    /// <summary>Query rows per attention call: about 64, in whole chunks, so a long step's scores stay small.</summary>
    public static StackGeometry For(int chunk, int leftChunks) => new(chunk, leftChunks, Math.Max(1, 64 / chunk));

    public int History => Chunk * LeftChunks;
    public int GroupRows => Chunk * GroupChunks;
}
