using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>Arguments of a row-wise kernel: where each row of the source and destination starts.</summary>
public struct RowArgs
{
    public int Rows;
    public int SourceOffset, SourceStride, DestinationOffset, DestinationStride, Width;
    public float Eps;
    /// <summary>Reductions by shared-memory exchange instead of shuffles (simulator only, see <see cref="WarpReducer"/>).</summary>
    public int Exchange;
}

/// <summary>
/// Row-wise operations, one group per row (groups stride over the rows when the grid is smaller,
/// as on the simulator). They move little data: the only design goals are coalesced access and
/// one launch per operation.
/// </summary>
public static class RowKernels
{
    public const int Threads = 256;

    /// <summary>destination = source · rsqrt(mean(source²) + eps) · weight.</summary>
    [GpuKernel]
    public static void RmsNorm(ArrayView<float> source, ArrayView<float> weight, ArrayView<float> destination, RowArgs a)
    {
        var reducer = new WarpReducer(SharedMemory.Allocate<float>(WarpReducer.ScratchFloats), a.Exchange);
        for (int row = Grid.IdxX; row < a.Rows; row += Grid.DimX)
        {
            int src = a.SourceOffset + row * a.SourceStride;
            int dst = a.DestinationOffset + row * a.DestinationStride;
            float squares = 0f;
            for (int i = Group.IdxX; i < a.Width; i += Group.DimX)
            {
                float v = source[src + i];
                squares += v * v;
            }
            float total = reducer.BlockSum(squares);
            float scale = 1f / MathF.Sqrt(total / a.Width + a.Eps);
            for (int i = Group.IdxX; i < a.Width; i += Group.DimX)
                destination[dst + i] = source[src + i] * scale * weight[i];
        }
    }

    /// <summary>output = silu(gate) · up with gate in the first half of the source row and up in the second.</summary>
    [GpuKernel]
    public static void SwiGlu(ArrayView<float> gateUp, ArrayView<float> output, RowArgs a)
    {
        for (int row = Grid.IdxX; row < a.Rows; row += Grid.DimX)
        {
            int src = a.SourceOffset + row * a.SourceStride;
            int dst = a.DestinationOffset + row * a.DestinationStride;
            for (int i = Group.IdxX; i < a.Width; i += Group.DimX)
                output[dst + i] = DeviceMath.Silu(gateUp[src + i]) * gateUp[src + a.Width + i];
        }
    }

    /// <summary>destination = 0 (Width values per row): split-K products add into a cleared output.</summary>
    [GpuKernel]
    public static void Clear(ArrayView<float> destination, RowArgs a)
    {
        for (int row = Grid.IdxX; row < a.Rows; row += Grid.DimX)
        {
            int dst = a.DestinationOffset + row * a.DestinationStride;
            for (int i = Group.IdxX; i < a.Width; i += Group.DimX)
                destination[dst + i] = 0f;
        }
    }

    /// <summary>
    /// destination row r = table row ids[idOffset + r], widened from bf16 or copied from fp32. An id
    /// outside the table yields a NaN row (the backend checks ids before launching; a kernel cannot throw).
    /// </summary>
    [GpuKernel]
    public static void Embed(ArrayView<U4> table, MatrixRuns runs, ArrayView<int> ids, ArrayView<float> destination, EmbedArgs a)
    {
        for (int row = Grid.IdxX; row < a.Rows; row += Grid.DimX)
        {
            int id = ids[a.IdOffset + row];
            int dst = a.DestinationOffset + row * a.DestinationStride;
            if (id < 0 || id >= a.TableRows)
            {
                for (int i = Group.IdxX; i < a.Cols; i += Group.DimX)
                    destination[dst + i] = float.NaN;
                continue;
            }
            int unit = runs.Locate(id);
            bool f32 = runs.IsF32(id);
            for (int g = Group.IdxX; g < runs.Groups; g += Group.DimX)
            {
                var v = f32 ? DeviceMath.F32x8(table[unit + 2 * g], table[unit + 2 * g + 1]) : DeviceMath.Bf16x8(table[unit + g]);
                int k = 8 * g;
                int target = dst + k;
                if (k + 8 <= a.Cols)
                {
                    destination[target] = v.A0; destination[target + 1] = v.A1; destination[target + 2] = v.A2; destination[target + 3] = v.A3;
                    destination[target + 4] = v.A4; destination[target + 5] = v.A5; destination[target + 6] = v.A6; destination[target + 7] = v.A7;
                }
                else
                {
                    int left = a.Cols - k;
                    if (left > 0) destination[target] = v.A0;
                    if (left > 1) destination[target + 1] = v.A1;
                    if (left > 2) destination[target + 2] = v.A2;
                    if (left > 3) destination[target + 3] = v.A3;
                    if (left > 4) destination[target + 4] = v.A4;
                    if (left > 5) destination[target + 5] = v.A5;
                    if (left > 6) destination[target + 6] = v.A6;
                }
            }
        }
    }
}

public struct EmbedArgs
{
    public int Rows, TableRows, Cols, IdOffset, DestinationOffset, DestinationStride;
}
