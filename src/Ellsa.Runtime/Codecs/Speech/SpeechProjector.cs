using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// speech_proj (MIX:1909-1913): Linear(encoder width · seg_size → hidden), ReLU, Linear(hidden →
/// output_dim) over rows of seg_size encoder frames laid side by side, frame-major (MIX:2068-2076).
/// ln_speech is computed and then discarded by the authors, so it is not applied.
/// </summary>
internal sealed class SpeechProjector(Linear first, Linear second)
{
    public static SpeechProjector Load(WeightScope scope, SpeechEncoderConfig config) => new(
        Linear.Load(scope.Pp("0"), config.ProjectorInput, config.Hidden),
        Linear.Load(scope.Pp("2"), config.Hidden, config.OutputDim));

    /// <summary>Appends one embedding per row of <paramref name="stacked"/> ([rows, width · seg_size]) to <paramref name="rows"/>.</summary>
    public void Forward(Workspace ws, TensorSlice stacked, List<float[]> rows)
    {
        var backend = ws.Backend;
        var hidden = ws.Rows("projector.hidden", stacked.Rows, first.OutFeatures);
        first.Forward(backend, stacked, hidden, new Relu());
        var output = ws.Rows("projector.output", stacked.Rows, second.OutFeatures);
        second.Forward(backend, hidden, output);
        for (int r = 0; r < stacked.Rows; r++)
        {
            var row = new float[second.OutFeatures];
            backend.Download(output.RowRange(r, 1), row);
            rows.Add(row);
        }
    }
}
