using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;

namespace Ellsa.Kernels.Ops.Convolution;

/// <summary>
/// The convolution family: im2col into a [positions, taps] column block, the backend's weight
/// product (the SA-MoE's GEMM paths, bf16 or fp32 weights, fp32 accumulation), and a layout copy
/// into the [channels, positions] output. The weight is PyTorch's [out, in, (kd,) (kh,) kw] tensor
/// flattened to [out, taps], which is exactly the column order im2col writes. Positions go in
/// chunks so the column block stays small whatever the image.
/// </summary>
public static class Convolution
{
    /// <summary>Input [C, D, H, W] (any strides) as the spec describes; output [out channels, positions].</summary>
    public static void Check(in TensorView input, in ConvSpec spec, in TensorView output, DeviceMatrix weight)
    {
        spec.Validate("convolution");
        spec.CheckInput(input, "convolution");
        if (weight.Cols != spec.Taps)
            throw new ArgumentException($"convolution {spec}: {weight.Name} has {weight.Cols} weights per output channel, the spec {spec.Taps}");
        if (output.Rank != 2 || output.Dim(0) != weight.Rows || output.Dim(1) != spec.Positions)
            throw new ArgumentException($"convolution {spec}: output view {output} is not [{weight.Rows}, {spec.Positions}]");
    }

    /// <summary>Checks an im2col request: a block of output positions into rows of a column slice.</summary>
    public static void CheckColumns(in TensorView input, in ConvSpec spec, int firstPosition, TensorSlice columns)
    {
        spec.CheckInput(input, "im2col");
        if (columns.Cols != spec.Taps || firstPosition < 0 || firstPosition + columns.Rows > spec.Positions)
            throw new ArgumentException($"im2col {spec}: positions {firstPosition}…{firstPosition + columns.Rows - 1} into a {columns.Rows}×{columns.Cols} slice");
    }

    /// <summary>The definition in double precision: input [C, D, H, W] dense, weight [out, taps], output [out, positions].</summary>
    public static double[] Reference(ReadOnlySpan<float> input, in ConvSpec spec, ReadOnlySpan<float> weight, int outChannels, ReadOnlySpan<float> bias)
    {
        int positions = spec.Positions, taps = spec.Taps;
        var output = new double[outChannels * positions];
        int sw = 1, sh = spec.InW, sd = spec.InH * spec.InW, sc = spec.InD * sd;
        for (int p = 0; p < positions; p++)
        {
            for (int o = 0; o < outChannels; o++)
            {
                double sum = bias.IsEmpty ? 0 : bias[o];
                for (int k = 0; k < taps; k++)
                {
                    int at = spec.InputOffset(p, k, sc, sd, sh, sw, 0);
                    if (at >= 0)
                        sum += (double)input[at] * weight[o * taps + k];
                }
                output[o * positions + p] = sum;
            }
        }
        return output;
    }

    /// <summary>Runs a convolution through the backend: im2col, weight product, layout copy, in chunks of positions.</summary>
    public static void Forward(IComputeBackend backend, DeviceMatrix weight, DeviceVector? bias, TensorView input, ConvSpec spec,
        TensorView output, ConvWorkspace workspace)
    {
        Check(input, spec, output, weight);
        int taps = spec.Taps, positions = spec.Positions;
        int chunk = Math.Max(1, Math.Min(positions, workspace.ChunkPositions(taps, weight.Rows)));
        var columns = workspace.Columns(chunk, taps);
        var product = workspace.Product(chunk, weight.Rows);
        for (int first = 0; first < positions; first += chunk)
        {
            int count = Math.Min(chunk, positions - first);
            var block = new TensorSlice(columns, 0, count, 0, taps);
            var result = new TensorSlice(product, 0, count, 0, weight.Rows);
            backend.Im2Col(input, spec, first, block);
            backend.WeightGemm(weight, block, result, bias);
            TensorView produced = result;
            backend.Unary(produced.Permute(1, 0), output.Slice(1, first, count), new Copy());
        }
    }
}

/// <summary>
/// The scratch a network's convolutions share: the column block and the product, grown to the
/// largest chunk met and kept, so a network allocates them once.
/// </summary>
public sealed class ConvWorkspace(IComputeBackend backend, long maxColumnFloats = 1 << 22) : IDisposable
{
    private DeviceTensor? _columns;
    private DeviceTensor? _product;

    /// <summary>Positions per chunk: what keeps the column block under its budget (on a GPU the budget is larger).</summary>
    public int ChunkPositions(int taps, int outChannels) =>
        (int)Math.Max(1, Math.Min(int.MaxValue, maxColumnFloats / Math.Max(taps, outChannels)));

    public DeviceTensor Columns(int rows, int cols) => Ensure(ref _columns, rows, cols);

    public DeviceTensor Product(int rows, int cols) => Ensure(ref _product, rows, cols);

    private DeviceTensor Ensure(ref DeviceTensor? tensor, int rows, int cols)
    {
        if (tensor is not null && tensor.Rows >= rows && tensor.Cols == cols)
            return tensor;
        tensor?.Dispose();
        tensor = backend.AllocateTensor(rows, cols);
        return tensor;
    }

    public void Dispose()
    {
        _columns?.Dispose();
        _product?.Dispose();
    }
}
