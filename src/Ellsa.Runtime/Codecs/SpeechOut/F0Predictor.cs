using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// ConvRNNF0Predictor (cv/hifigan/f0_predictor.py:L19-55): five weight-norm Conv1d (k 3, padding 1)
/// each followed by ELU, then a Linear to one value per frame whose magnitude is the F0 in Hz.
/// </summary>
internal sealed class F0Predictor
{
    public const int Layers = 5;

    private readonly Conv[] _convs;
    private readonly Linear _classifier;

    private F0Predictor(Conv[] convs, Linear classifier) => (_convs, _classifier) = (convs, classifier);

    /// <param name="scope">The f0_predictor module (condnet.0, .2, … .8 are the convs, the odd indices the ELUs).</param>
    public static F0Predictor Load(WeightScope scope, int inChannels, int channels) => new(
        Enumerable.Range(0, Layers)
            .Select(i => WeightNorm.LoadConv(scope.Pp("condnet").Pp(2 * i), i == 0 ? inChannels : channels, channels, 3))
            .ToArray(),
        Linear.Load(scope.Pp("classifier"), channels, 1));

    /// <summary>The F0 of each frame of the mel rows [frames, in_channels], on the host (the sine source needs it there).</summary>
    public float[] Forward(HiftPass pass, TensorSlice mel)
    {
        var x = mel;
        for (int i = 0; i < Layers; i++)
        {
            x = pass.Conv1d(_convs[i], HiftPass.ChannelFirst(x), i % 2 == 0 ? "f0.even" : "f0.odd", 3, padding: 1);
            pass.Backend.Unary(x, x, new Elu());
        }
        var output = pass.Take("f0.out", mel.Rows, 1);
        _classifier.Forward(pass.Backend, x, output);
        var f0 = pass.Download(output);
        for (int i = 0; i < f0.Length; i++)
            f0[i] = Math.Abs(f0[i]);
        return f0;
    }
}
