using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Kernels.Ops.Elementwise;

namespace Ellsa.Kernels.Ops.TransposedConvolution;

/// <summary>
/// A 1-D transposed convolution (PyTorch's ConvTranspose1d, output_padding 0): input position t
/// spreads its k taps over output positions t·Stride − Padding + tap. Plain fields: the same value
/// is the GPU kernel's argument.
/// </summary>
public struct OverlapAddSpec
{
    /// <summary>Output channels.</summary>
    public int Channels;
    public int Kernel, Stride, Padding;
    /// <summary>Input positions.</summary>
    public int InLength;

    /// <summary>(L − 1)·stride − 2·padding + kernel.</summary>
    public readonly int OutLength => (InLength - 1) * Stride - 2 * Padding + Kernel;

    /// <summary>Entries of a column row: one per (channel, tap), channel-major.</summary>
    public readonly int Columns => Channels * Kernel;

    public static OverlapAddSpec Create(int channels, int inLength, int kernel, int stride, int padding) =>
        new() { Channels = channels, InLength = inLength, Kernel = kernel, Stride = stride, Padding = padding };

    /// <summary>Throws unless sizes are positive, padding non-negative and the output non-empty.</summary>
    public readonly void Validate(string op)
    {
        if (Channels < 1 || Kernel < 1 || Stride < 1 || Padding < 0 || InLength < 1)
            throw new ArgumentException($"{op} {this}: channels, kernel, stride and input length must be positive and padding non-negative");
        if ((long)(InLength - 1) * Stride - 2L * Padding + Kernel < 1)
            throw new ArgumentException($"{op} {this}: the padding trims the whole output");
        if ((long)(InLength - 1) * Stride + Kernel > int.MaxValue || (long)Channels * Kernel > int.MaxValue)
            throw new ArgumentException($"{op} {this}: sizes exceed one launch");
    }

    /// <summary>The input positions that reach output positions [first, first + count): the rows a column block must hold.</summary>
    public readonly (int First, int Count) InputsFor(int first, int count)
    {
        // t reaches j when 0 ≤ j + padding − t·stride < kernel.
        int lo = Math.Max(0, CeilDiv(first + Padding - Kernel + 1, Stride));
        int hi = Math.Min(InLength - 1, FloorDiv(first + count - 1 + Padding, Stride));
        return hi < lo ? (lo, 0) : (lo, hi - lo + 1);
    }

    private static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    private static int CeilDiv(int a, int b) => -FloorDiv(-a, b);

    public readonly override string ToString() =>
        $"{InLength} → {Channels}×{OutLength}, kernel {Kernel}, stride {Stride}, padding {Padding}";
}

/// <summary>
/// The transposed-convolution family: the backend's weight product of every input position with
/// the weight seen as [channels·kernel, in] (each row one output channel's tap), then the
/// overlap-add of those products into the output (the col2im that mirrors a convolution's im2col).
/// HiFT's upsampling layers and its inverse STFT (a transposed conv of the frames' inverse DFT with
/// stride hop, padding n_fft/2 being the centred iSTFT's trim) are this op.
/// <para>
/// Overlap-add contract: columns is a [rows, channels·kernel] view whose row r holds input position
/// <c>firstInput + r</c> (column c·kernel + tap); output a [channels, count] view of output positions
/// <c>firstOutput …</c>, overlapping no operand; every input position that reaches those outputs must
/// be among the rows; bias a [channels] view or none. Each output is a gather of its at most
/// ⌈kernel / stride⌉ contributions in increasing tap order, so results are deterministic.
/// </para>
/// </summary>
public static class TransposedConvolution
{
    public static void CheckOverlapAdd(in TensorView columns, in OverlapAddSpec spec, int firstInput, int firstOutput, in TensorView? bias, in TensorView output)
    {
        spec.Validate("overlap-add");
        if (columns.Rank != 2 || columns.Dim(1) != spec.Columns)
            throw new ArgumentException($"overlap-add {spec}: columns view {columns} is not [rows, {spec.Columns}]");
        if (output.Rank != 2 || output.Dim(0) != spec.Channels)
            throw new ArgumentException($"overlap-add {spec}: output view {output} is not [{spec.Channels}, positions]");
        int count = output.Dim(1);
        if (firstOutput < 0 || (long)firstOutput + count > spec.OutLength)
            throw new ArgumentException($"overlap-add {spec}: output positions {firstOutput}…{firstOutput + count - 1} outside 0…{spec.OutLength - 1}");
        var (needFirst, needCount) = spec.InputsFor(firstOutput, count);
        if (needCount > 0 && (needFirst < firstInput || needFirst + needCount > firstInput + columns.Dim(0)))
            throw new ArgumentException($"overlap-add {spec}: outputs {firstOutput}…{firstOutput + count - 1} need inputs {needFirst}…{needFirst + needCount - 1}, " +
                $"the columns hold {firstInput}…{firstInput + columns.Dim(0) - 1}");
        if (bias is { } b && (b.Rank != 1 || b.Dim(0) != spec.Channels))
            throw new ArgumentException($"overlap-add {spec}: bias view {b} is not [{spec.Channels}]");
        for (int axis = 0; axis < 2; axis++)
        {
            if (output.Layout.Stride(axis) == 0 && output.Dim(axis) > 1)
                throw new ArgumentException($"overlap-add {spec}: the output {output} is broadcast along axis {axis}; each element must be written once");
        }
        if ((long)spec.Channels * count > int.MaxValue)
            throw new ArgumentException($"overlap-add {spec}: {(long)spec.Channels * count} outputs exceed one launch");
    }

    /// <summary>
    /// One output element: bias plus the contributions of every input position that reaches output
    /// position <paramref name="j"/> (absolute), read from a column block starting at <paramref name="firstInput"/>.
    /// The CPU job and the GPU kernel both run this.
    /// </summary>
    public static float Gather<TReader>(in TReader columns, in ViewLayout lc, in OverlapAddSpec s, int firstInput, int c, int j, float bias)
        where TReader : struct, IFloatReader
    {
        float sum = bias;
        int shifted = j + s.Padding;
        // The first tap of j's residue class, then every stride-th tap: input t = (shifted − tap) / stride.
        int tap = shifted % s.Stride;
        int t = shifted / s.Stride;
        if (t >= s.InLength)
        {
            int skip = t - (s.InLength - 1);
            tap += skip * s.Stride;
            t -= skip;
        }
        int column = lc.Offset + (c * s.Kernel) * lc.S1;
        for (; tap < s.Kernel && t >= 0; tap += s.Stride, t--)
            sum += columns.Read(column + tap * lc.S1 + (t - firstInput) * lc.S0);
        return sum;
    }

    /// <summary>
    /// The definition in double precision: input [in, L] dense, weight [in, channels, kernel] as
    /// PyTorch stores a ConvTranspose1d's, output [channels, OutLength].
    /// </summary>
    public static double[] Reference(ReadOnlySpan<float> input, int inChannels, in OverlapAddSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias)
    {
        int outLength = spec.OutLength, k = spec.Kernel, channels = spec.Channels;
        var output = new double[channels * outLength];
        for (int o = 0; o < channels; o++)
        {
            for (int j = 0; j < outLength; j++)
                output[o * outLength + j] = bias.IsEmpty ? 0 : bias[o];
        }
        for (int i = 0; i < inChannels; i++)
        {
            for (int t = 0; t < spec.InLength; t++)
            {
                double x = input[i * spec.InLength + t];
                for (int o = 0; o < channels; o++)
                {
                    for (int tap = 0; tap < k; tap++)
                    {
                        int j = t * spec.Stride - spec.Padding + tap;
                        if (j >= 0 && j < outLength)
                            output[o * outLength + j] += x * weight[(i * channels + o) * k + tap];
                    }
                }
            }
        }
        return output;
    }

    /// <summary>
    /// PyTorch's ConvTranspose1d weight [in, channels, kernel] rearranged into the product's
    /// [channels·kernel, in] matrix (row c·kernel + tap), which the weight GEMM takes as it takes a linear layer's.
    /// </summary>
    public static float[] ProductWeight(ReadOnlySpan<float> weight, int inChannels, int channels, int kernel)
    {
        var rows = new float[weight.Length];
        for (int i = 0; i < inChannels; i++)
        {
            for (int r = 0; r < channels * kernel; r++)
                rows[r * inChannels + i] = weight[i * channels * kernel + r];
        }
        return rows;
    }

    /// <summary>
    /// output [channels, OutLength] = the transposed conv of <paramref name="activation"/>(input)
    /// with input an [in, L] view: per chunk of output positions, the inputs they need are copied
    /// (activated) into rows, multiplied by <paramref name="weight"/> ([channels·kernel, in]) and
    /// overlap-added. Chunks keep the column block within the workspace's budget.
    /// </summary>
    public static void Forward<TFn>(IComputeBackend backend, DeviceMatrix weight, TensorView? bias, TensorView input, OverlapAddSpec spec,
        TensorView output, ConvWorkspace workspace, TFn activation) where TFn : struct, IUnaryFunctor
    {
        spec.Validate("transposed convolution");
        int inChannels = input.Dim(0);
        if (input.Rank != 2 || input.Dim(1) != spec.InLength)
            throw new ArgumentException($"transposed convolution {spec}: input view {input} is not [channels, {spec.InLength}]");
        if (weight.Rows != spec.Columns || weight.Cols != inChannels)
            throw new ArgumentException($"transposed convolution {spec}: {weight.Name} is {weight.Rows}×{weight.Cols}, the spec needs {spec.Columns}×{inChannels}");
        if (output.Rank != 2 || output.Dim(0) != spec.Channels || output.Dim(1) != spec.OutLength)
            throw new ArgumentException($"transposed convolution {spec}: output view {output} is not [{spec.Channels}, {spec.OutLength}]");
        // n consecutive outputs need at most ⌊(n + kernel − 2) / stride⌋ + 1 inputs: size the chunk to the budget's rows.
        long budget = workspace.ChunkPositions(inChannels, spec.Columns);
        int chunk = (int)Math.Clamp((budget - 1) * spec.Stride - spec.Kernel + 2, 1, spec.OutLength);
        int rowsCapacity = Math.Min(spec.InLength, (chunk + spec.Kernel - 2) / spec.Stride + 1);
        var rows = workspace.Columns(rowsCapacity, inChannels);
        var product = workspace.Product(rowsCapacity, spec.Columns);
        for (int first = 0; first < spec.OutLength; first += chunk)
        {
            int count = Math.Min(chunk, spec.OutLength - first);
            var (from, needed) = spec.InputsFor(first, count);
            if (needed == 0)
            {
                // Outputs no input reaches: the bias alone (only with padding wider than the kernel's reach).
                var part = output.Slice(1, first, count);
                if (bias is { } b)
                    backend.Unary(b.Unsqueeze(1).BroadcastTo(spec.Channels, count), part, new Copy());
                else
                    backend.Unary(part, part, new Constant(0f));
                continue;
            }
            var block = new TensorSlice(rows, 0, needed, 0, inChannels);
            var products = new TensorSlice(product, 0, needed, 0, spec.Columns);
            backend.Unary(input.Slice(1, from, needed).Permute(1, 0), block, activation);
            backend.WeightGemm(weight, block, products, null);
            backend.OverlapAdd(products, spec, from, first, bias, output.Slice(1, first, count));
        }
    }
}

/// <summary>Reads a float at an element offset: the CPU job's pointer or the kernel's array view, so one gather serves both.</summary>
public interface IFloatReader
{
    float Read(int offset);
}
