using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;

namespace Ellsa.Kernels.Ops.Convolution;

/// <summary>
/// The convolution family: output [out channels, positions] = weight · columns + bias (+ a
/// residual), where the columns are the input's taps at each output position (im2col). The weight
/// is PyTorch's [out, in, (kd,) (kh,) kw] tensor flattened to [out, taps], which is exactly the
/// column order im2col writes; bf16 or fp32 weights, fp32 accumulation. A backend runs it either
/// <see cref="Composed"/> (the column block materialised in chunks, the weight GEMM, a layout copy)
/// or fused (the CPU's implicit GEMM packs column tiles straight from the input).
/// </summary>
public static class Convolution
{
    /// <summary>
    /// Input [C, D, H, W] (any strides) as the spec describes; output [out channels, positions]; the
    /// residual, when given, has the output's shape and another tensor (a fused product accumulates
    /// in the output, so a residual there would be overwritten before it is added).
    /// </summary>
    public static void Check(in TensorView input, in ConvSpec spec, in TensorView output, DeviceMatrix weight, in TensorView? residual = null)
    {
        spec.Validate("convolution");
        spec.CheckInput(input, "convolution");
        if (weight.Cols != spec.Taps)
            throw new ArgumentException($"convolution {spec}: {weight.Name} has {weight.Cols} weights per output channel, the spec {spec.Taps}");
        if (output.Rank != 2 || output.Dim(0) != weight.Rows || output.Dim(1) != spec.Positions)
            throw new ArgumentException($"convolution {spec}: output view {output} is not [{weight.Rows}, {spec.Positions}]");
        if (residual is { } r && !r.SameShape(output))
            throw new ArgumentException($"convolution {spec}: residual view {r} is not the output's {output}");
        if (residual is { } shared && ReferenceEquals(shared.Tensor, output.Tensor))
            throw new ArgumentException($"convolution {spec}: the residual is in the output's tensor; give it its own");
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

    /// <summary>
    /// A convolution through the backend's general ops: im2col, weight product, and the layout change
    /// into the output (which adds the residual when there is one), in chunks of positions. What a
    /// backend without a fused convolution runs.
    /// </summary>
    public static void Composed(IComputeBackend backend, DeviceMatrix weight, DeviceVector? bias, TensorView input, ConvSpec spec,
        TensorView output, TensorView? residual, ConvWorkspace workspace)
    {
        Check(input, spec, output, weight, residual);
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
            var produced = ((TensorView)result).Permute(1, 0);
            if (residual is { } r)
                backend.Binary(produced, r.Slice(1, first, count), output.Slice(1, first, count), new Add());
            else
                backend.Unary(produced, output.Slice(1, first, count), new Copy());
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
