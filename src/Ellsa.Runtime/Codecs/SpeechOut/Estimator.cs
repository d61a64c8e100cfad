using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Shapes;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// The causal ConditionalDecoder (cv/flow/decoder.py:L87-301) at one level, as CosyVoice2 builds it:
/// down [resnet(320 → C), n_blocks transformers, skip, causal conv], num_mid_blocks × [resnet,
/// transformers], up [resnet([x | skip] → C), transformers, causal conv], final causal block and
/// a 1×1 conv to 80 mel channels. Every transformer attends under the estimator's chunk mask.
/// </summary>
internal sealed class Estimator
{
    private readonly EstimatorConfig _config;
    private readonly EstimatorTime _time;
    private readonly Stage _down, _up;
    private readonly Stage[] _mid;
    private readonly Conv _downConv, _upConv;
    private readonly CausalBlock _final;
    private readonly Linear _finalProjection;

    public Estimator(WeightScope scope, EstimatorConfig config)
    {
        _config = config;
        int c = config.Channels;
        _time = EstimatorTime.Load(scope.Pp("time_mlp"), config);
        var down = scope.Pp("down_blocks").Pp(0);
        _down = Stage.Load(down, EstimatorConfig.InChannels, config);
        _downConv = Conv.Load(down.Pp(2), c, c, [CausalBlock.Kernel]);
        _mid = Enumerable.Range(0, config.NumMidBlocks).Select(i => Stage.Load(scope.Pp("mid_blocks").Pp(i), c, config)).ToArray();
        var up = scope.Pp("up_blocks").Pp(0);
        _up = Stage.Load(up, 2 * c, config);
        _upConv = Conv.Load(up.Pp(2), c, c, [CausalBlock.Kernel]);
        _final = CausalBlock.Load(scope.Pp("final_block"), c, c);
        _finalProjection = CausalResnetBlock.PointwiseConv(scope.Pp("final_proj"), c, FlowConfig.MelChannels);
        Resnets = 2 + _mid.Length;
    }

    public int Channels => _config.Channels;

    /// <summary>Resnet blocks: each takes one row of a step's time rows.</summary>
    public int Resnets { get; }

    /// <summary>
    /// The time rows of a flow time t ([Resnets, C]): the embedding is shared by every pass at t,
    /// so each resnet's projection of it is computed once per step.
    /// </summary>
    public void TimeRows(FlowPass pass, double t, TensorSlice rows)
    {
        var backend = pass.Backend;
        var embedding = pass.Rows("estimator.time", 1, _config.TimeEmbedDim);
        _time.Forward(pass, t, embedding);
        backend.Unary(embedding, embedding, new Mish());
        int r = 0;
        foreach (var stage in Stages())
            stage.Resnet.TimeRow(backend, embedding, rows.RowRange(r++, 1));
    }

    /// <summary>
    /// output [F, 80] = estimator(input [F, 320] = [x | μ | speaker | condition]) with a step's time
    /// rows. Replaying a <see cref="FlowPass.Prefix"/>, input and output are the frames after the
    /// prompt's stored rows, and input has <see cref="FlowPass.CausalLead"/> rows of its tensor before it.
    /// </summary>
    public void Forward(FlowPass pass, TensorSlice input, TensorSlice timeRows, TensorSlice output)
    {
        var backend = pass.Backend;
        int frames = input.Rows, c = _config.Channels, chunk = _config.StaticChunkSize;
        var x = pass.Frames("estimator.x", frames, c);
        // The up stage reads [x | skip]: the down stage leaves its skip in the second half.
        var joined = pass.Frames("estimator.joined", frames, 2 * c);
        var skip = joined.Columns(c, c);
        _down.Forward(pass, input, timeRows.RowRange(0, 1), skip, chunk);
        pass.CausalConv1d(_downConv, CausalBlock.Kernel, skip, x);
        var other = pass.Frames("estimator.other", frames, c);
        for (int i = 0; i < _mid.Length; i++)
        {
            _mid[i].Forward(pass, x, timeRows.RowRange(1 + i, 1), other, chunk);
            (x, other) = (other, x);
        }
        Shapes.Copy(backend, x, joined.Columns(0, c));
        _up.Forward(pass, joined, timeRows.RowRange(1 + _mid.Length, 1), other, chunk);
        pass.CausalConv1d(_upConv, CausalBlock.Kernel, other, x);
        _final.Forward(pass, x, other);
        _finalProjection.Forward(backend, other, output);
    }

    private IEnumerable<Stage> Stages() => [_down, .. _mid, _up];

    /// <summary>A resnet and its transformer blocks.</summary>
    private sealed class Stage(CausalResnetBlock resnet, EstimatorTransformer[] transformers)
    {
        public CausalResnetBlock Resnet => resnet;

        public static Stage Load(WeightScope scope, int inChannels, EstimatorConfig config) => new(
            CausalResnetBlock.Load(scope.Pp(0), inChannels, config.Channels, config.TimeEmbedDim),
            Enumerable.Range(0, config.NBlocks).Select(i => new EstimatorTransformer(scope.Pp(1).Pp(i), config.Channels, config)).ToArray());

        /// <summary>output [F, C] = transformers(resnet(input)); output must not overlap input.</summary>
        public void Forward(FlowPass pass, TensorSlice input, TensorSlice timeRow, TensorSlice output, int chunk)
        {
            resnet.Forward(pass, input, timeRow, output);
            foreach (var transformer in transformers)
                transformer.Forward(pass, output, chunk);
        }
    }
}
