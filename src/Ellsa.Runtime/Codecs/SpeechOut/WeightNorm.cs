using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.TransposedConvolution;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// torch's weight-norm parametrisation as HiFT stores it (torch ≥ 2.1's
/// <c>parametrizations.weight.original0</c> = g [d0, 1, …] and <c>original1</c> = v), folded at
/// load into the plain weight W = g · v / ‖v‖ with the norm over every axis but 0 (torch._weight_norm
/// with dim 0), in double precision, then rounded once to fp32. For a ConvTranspose1d axis 0 is
/// the input channels, as PyTorch stores its weight [in, out, k].
/// </summary>
internal static class WeightNorm
{
    /// <summary>A weight-norm Conv1d [out, in, kernel] with its bias.</summary>
    public static Conv LoadConv(WeightScope scope, int inChannels, int outChannels, int kernel)
    {
        var folded = Fold(scope, [outChannels, inChannels, kernel]);
        var weight = scope.ComputedMatrix("weight", folded, outChannels, inChannels * kernel);
        return Conv.FromWeight(weight, scope.Vector("bias", outChannels), inChannels, outChannels);
    }

    /// <summary>
    /// A weight-norm ConvTranspose1d [in, out, kernel] as the transposed-convolution family's
    /// product matrix [out·kernel, in], with its bias as an [out] tensor.
    /// </summary>
    public static (DeviceMatrix Weight, DeviceTensor Bias) LoadTransposed(WeightScope scope, int inChannels, int outChannels, int kernel)
    {
        var folded = Fold(scope, [inChannels, outChannels, kernel]);
        var rows = TransposedConvolution.ProductWeight(folded, inChannels, outChannels, kernel);
        return (scope.ComputedMatrix("weight", rows, outChannels * kernel, inChannels), scope.Tensor("bias", outChannels));
    }

    /// <summary>W = g · v / ‖v‖ per slice of axis 0; a slice of norm 0 or a value that is not finite is refused naming the tensor.</summary>
    public static float[] Fold(WeightScope scope, long[] shape)
    {
        var parameters = scope.Pp("parametrizations").Pp("weight");
        long[] gShape = [shape[0], .. Enumerable.Repeat(1L, shape.Length - 1)];
        var g = parameters.Floats("original0", gShape);
        var v = parameters.Floats("original1", shape);
        int slices = (int)shape[0], size = v.Length / slices;
        var weight = new float[v.Length];
        for (int s = 0; s < slices; s++)
        {
            double squares = 0;
            for (int i = 0; i < size; i++)
                squares += (double)v[s * size + i] * v[s * size + i];
            double norm = Math.Sqrt(squares);
            if (!(norm > 0) || !double.IsFinite(norm))
                throw parameters.Fail("original1", $"slice {s} has norm {norm}; weight norm divides by it, so it must be positive and finite");
            if (!float.IsFinite(g[s]))
                throw parameters.Fail("original0", $"entry {s} is {g[s]}, not finite");
            double scale = g[s] / norm;
            for (int i = 0; i < size; i++)
                weight[s * size + i] = (float)(v[s * size + i] * scale);
        }
        return weight;
    }
}
