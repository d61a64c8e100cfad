using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Kernels.Ops.Shapes;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// SimpleDownsample (ZF:1339-1383): output frame g = Σ_k softmax(bias)_k · x[g·ds + k], the last
/// group padded by repeating the last frame. One depthwise conv with a kernel shared by every
/// channel (stride ds); the padded group goes through a small copy.
/// </summary>
internal sealed class SimpleDownsample
{
    private readonly DeviceTensor _weights;

    public SimpleDownsample(WeightScope scope, int factor)
    {
        Factor = factor;
        _weights = scope.Upload(Softmax(scope.Floats("bias", factor)));
    }

    public int Factor { get; }

    public static float[] Softmax(float[] logits)
    {
        double max = logits.Max(), sum = logits.Sum(v => Math.Exp(v - max));
        return logits.Select(v => (float)(Math.Exp(v - max) / sum)).ToArray();
    }

    /// <summary>output ([⌈n / ds⌉, channels]) = downsample(frames [n, channels]).</summary>
    public void Forward(Workspace ws, TensorSlice frames, TensorSlice output)
    {
        var backend = ws.Backend;
        int n = frames.Rows, d = frames.Cols, full = n / Factor, rest = n - full * Factor;
        var weights = TensorView.Of(_weights, 1, Factor).BroadcastTo(d, Factor);
        if (full > 0)
            backend.DepthwiseConv(AsSignal(frames, full * Factor), ConvSpec.Conv1d(d, full * Factor, Factor, stride: Factor), weights, null,
                ((TensorView)output.RowRange(0, full)).Permute(1, 0));
        if (rest > 0)
        {
            var padded = ws.Rows("downsample.padded-group", Factor, d);
            Shapes.Copy(backend, frames.RowRange(full * Factor, rest), padded.RowRange(0, rest));
            Shapes.Copy(backend, ((TensorView)frames.RowRange(n - 1, 1)).BroadcastTo(Factor - rest, d), padded.RowRange(rest, Factor - rest));
            backend.DepthwiseConv(AsSignal(padded, Factor), ConvSpec.Conv1d(d, Factor, Factor, stride: Factor), weights, null,
                ((TensorView)output.RowRange(full, 1)).Permute(1, 0));
        }
    }

    /// <summary>The first <paramref name="count"/> rows of a [frames, channels] slice as the [C, 1, 1, count] input of a 1-D conv.</summary>
    private static TensorView AsSignal(TensorSlice frames, int count)
    {
        var layout = new ViewLayout { Rank = 4, Offset = frames.Row * frames.Tensor.Cols + frames.Col };
        layout.Set(0, frames.Cols, 1);
        layout.Set(1, 1, 0);
        layout.Set(2, 1, 0);
        layout.Set(3, count, frames.Tensor.Cols);
        return new TensorView(frames.Tensor, layout);
    }
}
