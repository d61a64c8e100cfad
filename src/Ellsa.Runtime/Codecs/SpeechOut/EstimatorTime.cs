using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// The estimator's time conditioning: Matcha's SinusoidalPosEmb(320) of the flow time t
/// (mt/models/components/decoder.py:L14-29) then TimestepEmbedding, Linear → SiLU → Linear (L73-117).
/// The sinusoid is host arithmetic: the frequencies exp(−k·ln(10⁴)/159) in float32 as the authors'
/// <c>.float()</c> makes them, the argument 1000·t·ω and its sine in double, as their float64 t
/// carries it (an fp32 sine of arguments up to 1000 rad would be off by ~1e-4); it is 320 values
/// per Euler step.
/// </summary>
internal sealed class EstimatorTime(Linear linear1, Linear linear2)
{
    public static EstimatorTime Load(WeightScope scope, EstimatorConfig config) => new(
        Linear.Load(scope.Pp("linear_1"), EstimatorConfig.InChannels, config.TimeEmbedDim),
        Linear.Load(scope.Pp("linear_2"), config.TimeEmbedDim, config.TimeEmbedDim));

    /// <summary>[sin(1000·t·ω_k) | cos(1000·t·ω_k)] over dim/2 frequencies.</summary>
    public static float[] Sinusoid(double t, int dim)
    {
        int half = dim / 2;
        float exponent = (float)-(Math.Log(10000.0) / (half - 1));
        var embedding = new float[dim];
        for (int k = 0; k < half; k++)
        {
            double argument = 1000.0 * t * MathF.Exp(k * exponent);
            embedding[k] = (float)Math.Sin(argument);
            embedding[half + k] = (float)Math.Cos(argument);
        }
        return embedding;
    }

    /// <summary>output [1, 4C] = linear_2(silu(linear_1(sinusoid(t)))).</summary>
    public void Forward(FlowPass pass, double t, TensorSlice output)
    {
        var backend = pass.Backend;
        var sinusoid = pass.Rows("time.sinusoid", 1, EstimatorConfig.InChannels);
        backend.Upload(Sinusoid(t, EstimatorConfig.InChannels), sinusoid);
        var hidden = pass.Rows("time.hidden", 1, linear1.OutFeatures);
        linear1.Forward(backend, sinusoid, hidden);
        backend.Unary(hidden, hidden, new Silu());
        linear2.Forward(backend, hidden, output);
    }
}
