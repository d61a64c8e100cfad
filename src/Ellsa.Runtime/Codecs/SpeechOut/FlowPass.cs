using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>Receives the flow's intermediate activations by the names of the goldens' debug tensors (tests only).</summary>
internal interface IFlowProbe
{
    /// <summary>rows: [frames, channels] row-major, copied off the device.</summary>
    void Tap(string name, float[] rows, int frames, int channels);
}

/// <summary>
/// What one <see cref="Flow.Infer"/> call works with: the backend, the conv scratch, buffers kept
/// by purpose for the call (the 20 estimator passes reuse them), and the optional probe.
/// Activations are channel-last, [frames, channels] row-major: the layout the weight products
/// and the row norms take, and what a causal 1-D conv reads as a strided [C, 1, 1, T] view.
/// </summary>
internal sealed class FlowPass(IComputeBackend backend, IFlowProbe? probe) : IDisposable
{
    private readonly Workspace _work = new(backend);
    private readonly List<IDisposable> _owned = [];

    public IComputeBackend Backend { get; } = backend;
    public ConvWorkspace Conv { get; } = new(backend);

    /// <summary>Rows [0, rows) of the purpose's buffer (contents are whatever its last use left).</summary>
    public TensorSlice Rows(string purpose, int rows, int cols) => _work.Rows(purpose, rows, cols);

    /// <summary>A device object freed with the pass.</summary>
    public T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    public bool Probing => probe is not null;

    /// <summary>The estimator pass's stored prompt rows, while the solver records or replays them; null otherwise.</summary>
    public EstimatorPrefix.Cursor? Prefix { get; set; }

    /// <summary>
    /// A causal conv (zeros for the kernel − 1 frames before the first) of the estimator; with a
    /// <see cref="Prefix"/> those frames are the prompt's stored ones when replaying, so every input
    /// it reads must have kernel − 1 rows of its tensor before it (<see cref="Frames"/>).
    /// </summary>
    public void CausalConv1d(Conv conv, int kernel, TensorSlice input, TensorSlice output)
    {
        if (Prefix is { } prefix)
            prefix.CausalConv(this, conv, kernel, input, output);
        else
            Conv1d(conv, kernel, input, output, padBefore: kernel - 1);
    }

    /// <summary>Rows [0, rows) of the purpose's buffer with <see cref="CausalLead"/> rows of its tensor before them, for a causal conv's input.</summary>
    public TensorSlice Frames(string purpose, int rows, int cols) => _work.Rows(purpose, CausalLead + rows, cols).RowRange(CausalLead, rows);

    /// <summary>The history of the estimator's causal convs (3 taps).</summary>
    public const int CausalLead = CausalBlock.Kernel - 1;

    public void Tap(string name, TensorSlice rows)
    {
        if (probe is null)
            return;
        var values = new float[rows.Rows * rows.Cols];
        Backend.Download(rows, values);
        probe.Tap(name, values, rows.Rows, rows.Cols);
    }

    /// <summary>
    /// output [T', out] = Conv1d(input [T, in]) with zero padding <paramref name="padBefore"/> and
    /// <paramref name="padAfter"/> frames (a causal conv pads before only), stride 1.
    /// </summary>
    public void Conv1d(Conv conv, int kernel, TensorSlice input, TensorSlice output, int padBefore, int padAfter = 0)
    {
        var spec = ConvSpec.Conv1d(input.Cols, input.Rows, kernel, padBefore: padBefore, padAfter: padAfter);
        var source = ((TensorView)input).Permute(1, 0).Unsqueeze(1).Unsqueeze(1);
        conv.Forward(Backend, source, spec, ((TensorView)output).Permute(1, 0), Conv);
    }

    public void Dispose()
    {
        Backend.Synchronize();
        foreach (var item in _owned)
            item.Dispose();
        _owned.Clear();
        _work.Dispose();
        Conv.Dispose();
    }
}
