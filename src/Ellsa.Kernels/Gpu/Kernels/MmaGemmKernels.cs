using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>Arguments of <see cref="MmaGemmKernels.SplitOperand"/>.</summary>
public struct SplitArgs
{
    public int Rows, K, PaddedK;
    public int XOffset, XStride;
    public int Norm;
    public float Eps;
    public int NormOutOffset, NormOutStride;
    public int WriteLow;
    public int Exchange;
}

/// <summary>Arguments of <see cref="MmaGemmKernels.Gemm{TCore, TMode}"/>.</summary>
public struct MmaArgs
{
    public int M, N;
    /// <summary>K in steps of 32 (activations are zero-padded to it).</summary>
    public int KTiles;
    /// <summary>16-byte units per activation row (PaddedK / 8).</summary>
    public int ARowUnits;
    /// <summary>Unit of weight row 0 of this launch, and 16-byte units per weight row (ceil(K / 8)).</summary>
    public int WeightOffset, WeightGroups;
    public int YOffset, YStride;
    public int HasBias, Accumulate;
    /// <summary>K tiles per split (grid z); with more than one split the tiles are added into y atomically.</summary>
    public int TilesPerSplit, Splits;
    /// <summary>Device addresses of the weight buffer and the hi/lo activation buffers (cp.async takes raw addresses).</summary>
    public ulong WeightAddress, HiAddress, LowAddress;
}

/// <summary>
/// The prefill matrix product on tensor cores: y[m, n] = x[m] · w[n] with x the fp32
/// activations (M = tokens) and w a bf16 weight run (N = output rows).
/// <list type="bullet">
/// <item><see cref="SplitOperand"/> first writes x as bf16 hi (and lo = bf16(x − hi) in exact
/// mode, see <see cref="GemmPrecision"/>), zero-padded to a multiple of 32 columns, fusing the
/// RMSNorm that precedes the projection when there is one.</item>
/// <item>A group computes a 128 × 128 tile with 8 warps (2 along M × 4 along N, 64 × 32 each:
/// 4 × 4 mma.m16n8k16 per k16 step, 64 fp32 accumulators per thread), K in steps of 32.</item>
/// <item>cp.async.cg moves 16-byte chunks global → shared, double-buffered (the next K tile
/// loads while the tensor cores work on this one); src-size 0 zero-fills the M, N and K tails.</item>
/// <item>Shared tiles are 64-byte rows of four 16-byte chunks with chunk c stored at
/// c ^ ((row / 2) mod 4), so the eight row addresses of every ldmatrix hit eight distinct bank
/// groups; ldmatrix.x4 then delivers the mma fragments directly.</item>
/// <item>The grid runs along M fastest, so the M tiles that read one weight tile run together
/// and the weights come from DRAM about once (activations stay in L2).</item>
/// <item>Split-K for short inputs: with few tiles (a 20-token prefill has 32–48 for most
/// projections) grid z splits K so enough groups stream the weights; partial tiles are added
/// into y with atomic adds (y zeroed first unless accumulating, the bias added by split 0).</item>
/// </list>
/// Shared memory: 2 stages × 24 KB (exact) or 16 KB (fast) = at most 48 KB, the limit without an opt-in.
/// </summary>
public static class MmaGemmKernels
{
    public const int Tile = 128;
    public const int TileK = 32;
    public const int Threads = 256;
    public const int StagingRowFloats = 40;

    public static int StageBytes(bool exact) => exact ? 24576 : 16384;

    public static int SharedBytes(bool exact) => 2 * StageBytes(exact);

    public static int PaddedK(int k) => (k + TileK - 1) / TileK * TileK;

    /// <summary>Byte offset of 16-byte chunk <paramref name="chunk"/> of row <paramref name="row"/> in a swizzled 128 × 32 bf16 tile.</summary>
    public static int Swizzle(int row, int chunk) => row * 64 + ((chunk ^ ((row >> 1) & 3)) << 4);

    /// <summary>One group per row: hi (and lo) bf16 pairs of the (optionally RMS-normalised) row, zero past K.</summary>
    [GpuKernel]
    public static void SplitOperand(ArrayView<float> x, ArrayView<float> normWeight, ArrayView<float> normOut,
        ArrayView<uint> high, ArrayView<uint> low, SplitArgs a)
    {
        var reducer = new WarpReducer(SharedMemory.Allocate<float>(WarpReducer.ScratchFloats), a.Exchange);
        for (int row = Grid.IdxX; row < a.Rows; row += Grid.DimX)
            SplitRow(x, normWeight, normOut, high, low, a, reducer, row);
    }

    private static void SplitRow(ArrayView<float> x, ArrayView<float> normWeight, ArrayView<float> normOut,
        ArrayView<uint> high, ArrayView<uint> low, SplitArgs a, WarpReducer reducer, int row)
    {
        int start = a.XOffset + row * a.XStride;
        float scale = 1f;
        if (a.Norm != 0)
        {
            float squares = 0f;
            for (int k = Group.IdxX; k < a.K; k += Group.DimX)
            {
                float v = x[start + k];
                squares += v * v;
            }
            scale = 1f / MathF.Sqrt(reducer.BlockSum(squares) / a.K + a.Eps);
        }
        int pairs = a.PaddedK / 2;
        for (int p = Group.IdxX; p < pairs; p += Group.DimX)
        {
            int k = 2 * p;
            float v0 = 0f, v1 = 0f;
            if (k < a.K) v0 = x[start + k];
            if (k + 1 < a.K) v1 = x[start + k + 1];
            if (a.Norm != 0)
            {
                if (k < a.K)
                {
                    v0 = v0 * scale * normWeight[k];
                    normOut[a.NormOutOffset + row * a.NormOutStride + k] = v0;
                }
                if (k + 1 < a.K)
                {
                    v1 = v1 * scale * normWeight[k + 1];
                    normOut[a.NormOutOffset + row * a.NormOutStride + k + 1] = v1;
                }
            }
            uint h0 = DeviceMath.ToBf16Bits(v0);
            uint h1 = DeviceMath.ToBf16Bits(v1);
            high[row * pairs + p] = h0 | (h1 << 16);
            if (a.WriteLow != 0)
                low[row * pairs + p] = DeviceMath.ToBf16Bits(v0 - DeviceMath.FromBf16Bits(h0)) | (DeviceMath.ToBf16Bits(v1 - DeviceMath.FromBf16Bits(h1)) << 16);
        }
    }

    /// <summary>Grid: (ceil(M / 128), ceil(N / 128), Splits); dynamic shared memory <see cref="SharedBytes"/>.</summary>
    [GpuKernel(typeof(PtxMmaCore), typeof(ExactOperands))]
    [GpuKernel(typeof(PtxMmaCore), typeof(FastOperands))]
    public static void Gemm<TCore, TMode>(ArrayView<U4> w, ArrayView<U4> high, ArrayView<U4> low, ArrayView<float> y, ArrayView<float> bias, MmaArgs a)
        where TCore : struct, IMmaCore
        where TMode : struct, IOperandMode
    {
        bool exact = default(TMode).Exact;
        int stageBytes = StageBytes(exact);
        int bTile = exact ? 16384 : 8192;
        // Requested as 16-byte units so the symbol is declared 16-byte aligned (cp.async and ldmatrix need it).
        var shared = SharedMemory.GetDynamic<U4>().Cast<uint>();
        var core = default(TCore);
        core.Begin(shared);

        int tid = Group.IdxX;
        int lane = Warp.LaneIdx;
        int warp = Warp.WarpIdx;
        int m0 = Grid.IdxX * Tile;
        int n0 = Grid.IdxY * Tile;

        // Copy duty: rows tid/4 and tid/4 + 64 of each 128-row tile, chunk tid % 4.
        int loadRow = tid >> 2;
        int loadChunk = tid & 3;
        bool aValid0 = m0 + loadRow < a.M;
        bool aValid1 = m0 + loadRow + 64 < a.M;
        bool bValid0 = n0 + loadRow < a.N;
        bool bValid1 = n0 + loadRow + 64 < a.N;
        int aUnit0 = (m0 + loadRow) * a.ARowUnits + loadChunk;
        int aUnit1 = aUnit0 + 64 * a.ARowUnits;
        int bUnit0 = a.WeightOffset + (n0 + loadRow) * a.WeightGroups + loadChunk;
        int bUnit1 = bUnit0 + 64 * a.WeightGroups;
        uint store0 = (uint)Swizzle(loadRow, loadChunk);
        uint store1 = (uint)Swizzle(loadRow + 64, loadChunk);

        // Fragment duty: this warp's 64 × 32 sub-tile; the lane's ldmatrix row for k16 step s.
        int warpM = warp & 1;
        int warpN = warp >> 1;
        int aRow = warpM * 64 + (lane & 15);
        int bRow = warpN * 32 + ((lane >> 4) << 3) + (lane & 7);
        uint aStep0 = (uint)Swizzle(aRow, lane >> 4);
        uint aStep1 = (uint)Swizzle(aRow, 2 + (lane >> 4));
        uint bStep0 = (uint)(bTile + Swizzle(bRow, (lane >> 3) & 1));
        uint bStep1 = (uint)(bTile + Swizzle(bRow, 2 + ((lane >> 3) & 1)));

        int kBegin = Grid.IdxZ * a.TilesPerSplit;
        int kEnd = IntrinsicMath.Min(a.KTiles, kBegin + a.TilesPerSplit);
        Issue(ref core, w, high, low, a, exact, 0u, kBegin, loadChunk, aValid0, aValid1, bValid0, bValid1, aUnit0, aUnit1, bUnit0, bUnit1, store0, store1);
        core.Commit();
        for (int kt = kBegin; kt < kEnd; kt++)
        {
            if (kt + 1 < kEnd)
            {
                uint next = (uint)(((kt + 1 - kBegin) & 1) * stageBytes);
                Issue(ref core, w, high, low, a, exact, next, kt + 1, loadChunk, aValid0, aValid1, bValid0, bValid1, aUnit0, aUnit1, bUnit0, bUnit1, store0, store1);
            }
            // An empty group at the end keeps "all but the newest group" meaning "tile kt has landed".
            core.Commit();
            core.WaitPrevious();
            Group.Barrier();
            uint stage = (uint)(((kt - kBegin) & 1) * stageBytes);
            core.LoadFragments(stage + aStep0, stage + bStep0, exact);
            core.Multiply(exact);
            core.LoadFragments(stage + aStep1, stage + bStep1, exact);
            core.Multiply(exact);
            Group.Barrier();
        }

        // Epilogue: per m16 tile, the warp stages 16 × 32 results in shared memory and writes them
        // back row by row (coalesced, with bias / residual add / bounds in C#).
        var floats = shared.Cast<float>();
        int stagingWords = warp * 16 * StagingRowFloats;
        uint laneStaging = (uint)(4 * (stagingWords + (lane >> 2) * StagingRowFloats + 2 * (lane & 3)));
        int column = n0 + warpN * 32 + lane;
        bool columnValid = column < a.N;
        bool split = a.Splits > 1;
        float biasValue = columnValid && a.HasBias != 0 && Grid.IdxZ == 0 ? bias[column] : 0f;
        for (int i = 0; i < 4; i++)
        {
            core.StoreTile(i, laneStaging);
            Warp.Barrier();
            int rowBase = m0 + warpM * 64 + i * 16;
            for (int q = 0; q < 16; q++)
            {
                int row = rowBase + q;
                if (columnValid && row < a.M)
                {
                    float v = floats[stagingWords + q * StagingRowFloats + lane] + biasValue;
                    int at = a.YOffset + row * a.YStride + column;
                    if (split)
                    {
                        Atomic.Add(ref y[at], v);
                        continue;
                    }
                    if (a.Accumulate != 0)
                        v += y[at];
                    y[at] = v;
                }
            }
            Warp.Barrier();
        }
    }

    /// <summary>Starts the copies of K tile <paramref name="kTile"/> (A hi, A lo when exact, B) into the stage at <paramref name="stage"/>.</summary>
    private static void Issue<TCore>(ref TCore core, ArrayView<U4> w, ArrayView<U4> high, ArrayView<U4> low, MmaArgs a, bool exact,
        uint stage, int kTile, int loadChunk, bool aValid0, bool aValid1, bool bValid0, bool bValid1,
        int aUnit0, int aUnit1, int bUnit0, int bUnit1, uint store0, uint store1)
        where TCore : struct, IMmaCore
    {
        int kUnit = kTile * 4;
        uint bTile = exact ? 16384u : 8192u;
        // Activations are padded to whole K tiles; weight rows only to whole 8-element groups.
        bool kValid = kUnit + loadChunk < a.WeightGroups;
        core.Copy16(stage + store0, high, a.HiAddress, aUnit0 + kUnit, aValid0);
        core.Copy16(stage + store1, high, a.HiAddress, aUnit1 + kUnit, aValid1);
        if (exact)
        {
            core.Copy16(stage + 8192u + store0, low, a.LowAddress, aUnit0 + kUnit, aValid0);
            core.Copy16(stage + 8192u + store1, low, a.LowAddress, aUnit1 + kUnit, aValid1);
        }
        core.Copy16(stage + bTile + store0, w, a.WeightAddress, bUnit0 + kUnit, bValid0 && kValid);
        core.Copy16(stage + bTile + store1, w, a.WeightAddress, bUnit1 + kUnit, bValid1 && kValid);
    }
}
