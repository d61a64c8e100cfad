using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Shapes;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// HiFT's ResBlock (generator.py:L43-98): per dilation d, x += conv2(Snake₂(conv1_d(Snake₁(x)))),
/// both convs weight-norm, kernel k, "same" padding (d·(k − 1)/2 and (k − 1)/2); Snake's α per
/// channel (activation.py:L73-84, alpha_logscale False).
/// </summary>
internal sealed class HiftResBlock
{
    private readonly Conv[] _convs1, _convs2;
    private readonly DeviceTensor[] _alphas1, _alphas2;
    private readonly int[] _dilations;
    private readonly int _kernel;

    private HiftResBlock(Conv[] convs1, Conv[] convs2, DeviceTensor[] alphas1, DeviceTensor[] alphas2, int[] dilations, int kernel)
    {
        (_convs1, _convs2, _alphas1, _alphas2, _dilations, _kernel) = (convs1, convs2, alphas1, alphas2, dilations, kernel);
    }

    public static HiftResBlock Load(WeightScope scope, int channels, int kernel, int[] dilations)
    {
        int n = dilations.Length;
        Conv Wn(string list, int i) => WeightNorm.LoadConv(scope.Pp(list).Pp(i), channels, channels, kernel);
        DeviceTensor Alpha(string list, int i) => scope.Pp(list).Pp(i).Tensor("alpha", channels);
        return new HiftResBlock(
            Enumerable.Range(0, n).Select(i => Wn("convs1", i)).ToArray(),
            Enumerable.Range(0, n).Select(i => Wn("convs2", i)).ToArray(),
            Enumerable.Range(0, n).Select(i => Alpha("activations1", i)).ToArray(),
            Enumerable.Range(0, n).Select(i => Alpha("activations2", i)).ToArray(),
            dilations, kernel);
    }

    /// <summary>output = block(input) over rows [length, channels]; output may be input (in place), and is otherwise overwritten.</summary>
    public void Forward(HiftPass pass, TensorSlice input, TensorSlice output)
    {
        if (!SameRows(input, output))
            Shapes.Copy(pass.Backend, input, output);
        int length = output.Rows, channels = output.Cols;
        var activated = pass.Take("resblock.snake", length, channels);
        for (int i = 0; i < _dilations.Length; i++)
        {
            int d = _dilations[i];
            pass.Snake(output, _alphas1[i], activated);
            var hidden = pass.Conv1d(_convs1[i], HiftPass.ChannelFirst(activated), "resblock.conv1", _kernel, dilation: d, padding: d * (_kernel - 1) / 2);
            pass.Snake(hidden, _alphas2[i], hidden);
            var branch = pass.Conv1d(_convs2[i], HiftPass.ChannelFirst(hidden), "resblock.conv2", _kernel, padding: (_kernel - 1) / 2);
            pass.AddInto(output, branch);
        }
    }

    private static bool SameRows(TensorSlice a, TensorSlice b) =>
        ReferenceEquals(a.Tensor, b.Tensor) && a.Row == b.Row && a.Col == b.Col && a.Rows == b.Rows && a.Cols == b.Cols;
}
