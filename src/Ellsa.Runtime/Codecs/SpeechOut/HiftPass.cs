using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// What HiFT's layers run with: the backend and scratch kept for the generator's life. Activations
/// are position-major rows [length, channels] in <see cref="Workspace"/> buffers named by purpose
/// (their width is fixed per layer, so only the row count grows, and a steady stream of windows
/// allocates nothing); a layer sees them channel-first through strides, as PyTorch's [C, L].
/// </summary>
internal sealed class HiftPass(IComputeBackend backend) : IDisposable
{
    public IComputeBackend Backend { get; } = backend;
    public Workspace Rows { get; } = new(backend);
    public ConvWorkspace Conv { get; } = new(backend, backend.PreferredPrefillRows >= 4096 ? 1L << 26 : 1L << 22);

    /// <summary>The rows [length, channels] of a purpose's buffer.</summary>
    public TensorSlice Take(string purpose, int length, int channels) => Rows.Rows(purpose, length, channels);

    /// <summary>Rows [length, channels] seen as [channels, length].</summary>
    public static TensorView ChannelFirst(TensorSlice rows) => ((TensorView)rows).Permute(1, 0);

    /// <summary>
    /// A Conv1d of <paramref name="input"/> ([C, L], any strides) into the rows of <paramref name="purpose"/>:
    /// kernel, stride, dilation and zero padding as PyTorch's.
    /// </summary>
    public TensorSlice Conv1d(Networks.Conv conv, TensorView input, string purpose, int kernel, int stride = 1, int dilation = 1, int padding = 0)
    {
        var spec = ConvSpec.Conv1d(input.Dim(0), input.Dim(1), kernel, stride, dilation, padding, padding);
        var output = Take(purpose, spec.Positions, conv.OutChannels);
        conv.Forward(Backend, input.Unsqueeze(1).Unsqueeze(1), spec, ChannelFirst(output), Conv);
        return output;
    }

    /// <summary>destination = Snake(source) with α per channel (the rows' columns).</summary>
    public void Snake(TensorSlice source, DeviceTensor alpha, TensorSlice destination) =>
        Backend.Binary(source, TensorView.Of(alpha, 1, source.Cols).BroadcastTo(source.Rows, source.Cols), destination, new Snake());

    public void AddInto(TensorSlice destination, TensorSlice addend) => Backend.Binary(destination, addend, destination, new Add());

    public float[] Download(TensorSlice rows)
    {
        var values = new float[rows.Rows * rows.Cols];
        Backend.Download(rows, values);
        return values;
    }

    public void Dispose()
    {
        Conv.Dispose();
        Rows.Dispose();
    }
}
