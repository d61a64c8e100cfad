using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Norms;
using Ellsa.Runtime.Moe;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// generator_proj (emu:L2044-2049): <c>LayerNorm(W2 · relu(W1 · h + b1) + b2)</c> per hidden row of the
/// speech expert, giving the speech LM's text features. Tensors <c>0.*</c>, <c>2.*</c> (the Linears) and
/// <c>3.*</c> (the LayerNorm) of the nn.Sequential.
/// </summary>
public sealed class GeneratorProjection(GeneratorProjConfig config, IComputeBackend backend, List<IDisposable> owned, Linear first, Linear second,
    DeviceTensor normWeight, DeviceTensor normBias) : IDisposable
{
    public const string DefaultPrefix = "speech_expert.generator_proj.";

    public GeneratorProjConfig Config => config;
    public IComputeBackend Backend => backend;

    public static GeneratorProjection Load(TensorSet tensors, GeneratorProjConfig config, IComputeBackend backend, WeightBindings log,
        string prefix = DefaultPrefix)
    {
        backend.Require("generator_proj", NetworkOp.WeightGemm, NetworkOp.Unary, NetworkOp.Normalize);
        var owned = new List<IDisposable>();
        try
        {
            var scope = new WeightScope(tensors, backend, log, owned, prefix);
            var norm = scope.Pp("3");
            return new GeneratorProjection(config, backend, owned,
                Linear.Load(scope.Pp("0"), config.InputSize, config.HiddenSize),
                Linear.Load(scope.Pp("2"), config.HiddenSize, config.OutputSize),
                norm.Tensor("weight", config.OutputSize),
                norm.Tensor("bias", config.OutputSize));
        }
        catch
        {
            Owned.DisposeAll(owned);
            throw;
        }
    }

    /// <summary>The features of <paramref name="rows"/> hidden rows (<paramref name="hidden"/>: [rows, input_size], row-major), one array per row.</summary>
    public float[][] Project(Workspace ws, ReadOnlySpan<float> hidden, int rows)
    {
        int width = Config.InputSize;
        if (rows < 0 || hidden.Length != (long)rows * width)
            throw new ArgumentException($"{hidden.Length} hidden values are not {rows} rows of generator_proj.input_size {width}");
        int bad = FiniteValues.FirstNonFinite(hidden);
        if (bad >= 0)
            throw new ArgumentException($"hidden row {bad / width} holds {hidden[bad]} at column {bad % width}; hidden rows must be finite");
        var features = new float[rows][];
        if (rows == 0)
            return features;
        var input = ws.Rows("generator_proj.input", rows, width);
        Backend.Upload(hidden, input);
        var inner = ws.Rows("generator_proj.hidden", rows, Config.HiddenSize);
        first.Forward(Backend, input, inner);
        Backend.Unary(inner, inner, new Relu());
        var output = ws.Rows("generator_proj.output", rows, Config.OutputSize);
        second.Forward(Backend, inner, output);
        Backend.Normalize(output, output, NormSpec.LayerNorm((float)Config.LayerNormEps),
            TensorView.Of(normWeight, Config.OutputSize), TensorView.Of(normBias, Config.OutputSize));
        for (int r = 0; r < rows; r++)
        {
            features[r] = new float[Config.OutputSize];
            Backend.Download(output.RowRange(r, 1), features[r]);
        }
        return features;
    }

    public void Dispose() => Owned.DisposeAll(owned);
}
