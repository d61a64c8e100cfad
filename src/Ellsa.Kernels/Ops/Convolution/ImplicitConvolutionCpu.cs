using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Convolution;

namespace Ellsa.Kernels.Cpu;

/// <summary>
/// A convolution as an implicit GEMM on AVX-512: output [O, P] = weight [O, K] · columns [K, P],
/// the columns never materialised. Each chunk of up to <see cref="MaxChunkPositions"/> output
/// positions packs its column tiles (a block of taps × 32 positions, the positions along the
/// vector) straight from the input, block of taps by block, and a 12 × 32 micro-kernel adds each
/// block's product into the channel-major output in place, bias first and residual last. Compared
/// with im2col + GEMM + transpose this writes no column block to memory and no product to copy:
/// the packed tile (32 KB) stays in the core's L1 while the weight panel streams past it.
/// </summary>
internal sealed unsafe class ImplicitConvJob : IParallelWork, IDisposable
{
    /// <summary>Output channels per micro-tile: 24 accumulators, two column vectors and a broadcast fill the 32 registers.</summary>
    public const int Rows = 12;
    /// <summary>Positions per micro-tile: two vectors.</summary>
    public const int Lanes = 32;
    private const int Half = 16;
    /// <summary>Taps per block: the packed block of a tile (256 × 32 floats) fits L1 beside the streaming weights.</summary>
    private const int BlockTaps = 256;
    public const int MaxChunkPositions = 256;
    private const int TilesPerChunk = MaxChunkPositions / Lanes;

    public float* Input;
    public ViewLayout Layout;
    public ConvSpec Spec;
    /// <summary>Packed weights, [⌈O/12⌉][K][12].</summary>
    public float* Weights;
    public int OutChannels;
    public float* Output, Residual;
    public long OutputStride, ResidualStride;

    private int _positions, _chunkPositions, _positionChunks, _splits, _rowBlocks, _blocksPerSplit;
    private int _taps, _tapsPerChannel, _channelsPerBlock;
    private NativeArray<float> _bias = new(0);
    private bool _hasBias;
    private NativeArray<float>[] _columns = [];
    private NativeArray<Segment>[] _plans = [];
    private NativeArray<int>[] _planCounts = [];
    private long _columnFloats, _planEntries;

    /// <summary>Lanes lo…hi−1 of a half read input[channel base + Offset + lane · Step].</summary>
    private struct Segment
    {
        public int Offset, Step, Lo, Hi;
    }

    public int ChunkCount => _positionChunks * _splits;

    /// <summary>Sizes the chunks for this call (positions first; output channels split too when the positions alone would leave workers idle) and the per-worker scratch.</summary>
    public void Plan(int workers, float* bias)
    {
        var s = Spec;
        _positions = s.Positions;
        _taps = s.Taps;
        _tapsPerChannel = s.KernelD * s.KernelH * s.KernelW;
        _channelsPerBlock = Math.Max(1, Math.Min(s.Channels, BlockTaps / _tapsPerChannel));
        _rowBlocks = (OutChannels + Rows - 1) / Rows;
        int perWorker = (_positions + 2 * workers - 1) / (2 * workers);
        _chunkPositions = Math.Min(MaxChunkPositions, (perWorker + Lanes - 1) / Lanes * Lanes);
        _positionChunks = (_positions + _chunkPositions - 1) / _chunkPositions;
        _splits = Math.Max(1, Math.Min(_rowBlocks, (2 * workers + _positionChunks - 1) / _positionChunks));
        _blocksPerSplit = (_rowBlocks + _splits - 1) / _splits;
        _splits = (_rowBlocks + _blocksPerSplit - 1) / _blocksPerSplit;

        long padded = (long)_rowBlocks * Rows;
        if (_bias.Length < padded)
        {
            _bias.Dispose();
            _bias = new NativeArray<float>(padded);
        }
        var target = _bias.AsSpan(0, (int)padded);
        target.Clear();
        _hasBias = bias != null;
        if (_hasBias)
            new ReadOnlySpan<float>(bias, OutChannels).CopyTo(target);

        long columnFloats = (long)TilesPerChunk * _channelsPerBlock * _tapsPerChannel * Lanes;
        long planEntries = (long)TilesPerChunk * 2 * _tapsPerChannel * Half;
        if (_columns.Length != workers || _columnFloats < columnFloats || _planEntries < planEntries)
        {
            DisposeScratch();
            _columns = new NativeArray<float>[workers];
            _plans = new NativeArray<Segment>[workers];
            _planCounts = new NativeArray<int>[workers];
            for (int i = 0; i < workers; i++)
            {
                _columns[i] = new NativeArray<float>(columnFloats);
                _plans[i] = new NativeArray<Segment>(planEntries);
                _planCounts[i] = new NativeArray<int>(planEntries / Half);
            }
            _columnFloats = columnFloats;
            _planEntries = planEntries;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int worker)
    {
        int positionChunk = chunk / _splits, split = chunk % _splits;
        int first = positionChunk * _chunkPositions, count = Math.Min(_chunkPositions, _positions - first);
        int tiles = (count + Lanes - 1) / Lanes;
        int rowBlock0 = split * _blocksPerSplit, rowBlock1 = Math.Min(_rowBlocks, rowBlock0 + _blocksPerSplit);
        var plans = _plans[worker].Pointer;
        var counts = _planCounts[worker].Pointer;
        float* columns = _columns[worker].Pointer;
        for (int t = 0; t < tiles; t++)
            PlanTile(first + t * Lanes, Math.Min(Lanes, count - t * Lanes), plans + (long)t * 2 * _tapsPerChannel * Half, counts + t * 2 * _tapsPerChannel);

        int channels = Spec.Channels;
        for (int c0 = 0; c0 < channels; c0 += _channelsPerBlock)
        {
            int c1 = Math.Min(channels, c0 + _channelsPerBlock);
            int kc = (c1 - c0) * _tapsPerChannel;
            for (int t = 0; t < tiles; t++)
                PackTile(c0, c1, plans + (long)t * 2 * _tapsPerChannel * Half, counts + t * 2 * _tapsPerChannel, columns + (long)t * kc * Lanes);
            bool accumulate = c0 > 0, last = c1 == channels;
            for (int block = rowBlock0; block < rowBlock1; block++)
            {
                int row = block * Rows, rows = Math.Min(Rows, OutChannels - row);
                float* w = Weights + ((long)block * _taps + (long)c0 * _tapsPerChannel) * Rows;
                float* bias = _hasBias ? _bias.Pointer + row : null;
                for (int t = 0; t < tiles; t++)
                {
                    int p = first + t * Lanes;
                    int lanes = Math.Min(Lanes, count - t * Lanes);
                    Tile(w, columns + (long)t * kc * Lanes, kc, Output + row * OutputStride + p, OutputStride, rows, lanes, accumulate, bias,
                        last && Residual != null ? Residual + row * ResidualStride + p : null, ResidualStride);
                }
            }
        }
    }

    /// <summary>
    /// Where each lane of a tile reads each tap position (i, j, l) of a channel: runs of lanes in
    /// one output row read evenly spaced inputs, so each (half, tap) is a few segments; lanes over
    /// the padding or past the last position are in none and read zero.
    /// </summary>
    private void PlanTile(int first, int lanes, Segment* plan, int* counts)
    {
        var s = Spec;
        var l = Layout;
        int kernelHW = s.KernelH * s.KernelW;
        for (int half = 0; half < 2; half++)
        {
            for (int tap = 0; tap < _tapsPerChannel; tap++)
            {
                int ti = tap / kernelHW, tj = tap / s.KernelW % s.KernelH, tl = tap % s.KernelW;
                Segment* segments = plan + ((long)half * _tapsPerChannel + tap) * Half;
                int n = 0, rowKey = -1;
                for (int lane = 0; lane < Half; lane++)
                {
                    int index = half * Half + lane;
                    if (index >= lanes)
                        break;
                    int p = first + index;
                    int ow = p % s.OutW, q = p / s.OutW, oh = q % s.OutH, od = q / s.OutH;
                    int d = od * s.StrideD - s.PadD0 + ti * s.DilationD;
                    int h = oh * s.StrideH - s.PadH0 + tj * s.DilationH;
                    int w = ow * s.StrideW - s.PadW0 + tl * s.DilationW;
                    if (d < 0 || d >= s.InD || h < 0 || h >= s.InH || w < 0 || w >= s.InW)
                    {
                        rowKey = -1;
                        continue;
                    }
                    int offset = d * l.S1 + h * l.S2 + w * l.S3;
                    if (q == rowKey && segments[n - 1].Hi == lane)
                    {
                        segments[n - 1].Hi = lane + 1;
                        continue;
                    }
                    int step = s.StrideW * l.S3;
                    segments[n++] = new Segment { Offset = offset - lane * step, Step = step, Lo = lane, Hi = lane + 1 };
                    rowKey = q;
                }
                counts[half * _tapsPerChannel + tap] = n;
            }
        }
    }

    /// <summary>Channels c0…c1−1 of one tile into its packed block [(c − c0)·taps + tap][32].</summary>
    private void PackTile(int c0, int c1, Segment* plan, int* counts, float* target)
    {
        var iota = Vector512<int>.Indices;
        var sixteen = Vector512.Create(Half);
        var evens = iota * 2;
        var zero = Vector512<float>.Zero;
        int taps = _tapsPerChannel;
        for (int c = c0; c < c1; c++)
        {
            float* channel = Input + Layout.Offset + (long)c * Layout.S0;
            for (int tap = 0; tap < taps; tap++, target += Lanes)
            {
                for (int half = 0; half < 2; half++)
                {
                    int n = counts[half * taps + tap];
                    Segment* segments = plan + ((long)half * taps + tap) * Half;
                    var v = zero;
                    for (int e = 0; e < n; e++)
                    {
                        var g = segments[e];
                        float* at = channel + g.Offset;
                        if (g.Step == 1 && g.Lo == 0 && g.Hi == Half)
                        {
                            v = Vector512.Load(at);
                            continue;
                        }
                        // Lanes outside lo…hi are masked off: they may point before the input or past it, and masked lanes never fault.
                        var lanes = (Vector512.GreaterThanOrEqual(iota, Vector512.Create(g.Lo)) & Vector512.LessThan(iota, Vector512.Create(g.Hi))).AsSingle();
                        if (g.Step == 1)
                            v = Avx512F.MaskLoad(at, lanes, v);
                        else if (g.Step == 2)
                        {
                            // A stride-2 conv: the run's 2·n − 1 inputs in two vectors, the even ones picked out.
                            var first = Vector512.Create(2 * g.Lo);
                            var end = Vector512.Create(2 * g.Hi - 1);
                            var low = (Vector512.GreaterThanOrEqual(iota, first) & Vector512.LessThan(iota, end)).AsSingle();
                            var high = (Vector512.GreaterThanOrEqual(iota + sixteen, first) & Vector512.LessThan(iota + sixteen, end)).AsSingle();
                            var picked = Avx512F.PermuteVar16x32x2(Avx512F.MaskLoad(at, low, zero), evens, Avx512F.MaskLoad(at + Half, high, zero));
                            v = Vector512.ConditionalSelect(lanes, picked, v);
                        }
                        else
                        {
                            // Other strides (a permuted input, a wider stride): lane by lane.
                            float* lane = target + half * Half;
                            v.Store(lane);
                            for (int i = g.Lo; i < g.Hi; i++)
                                lane[i] = at[(long)i * g.Step];
                            v = Vector512.Load(lane);
                        }
                    }
                    v.Store(target + half * Half);
                }
            }
        }
    }

    /// <summary>
    /// 12 output channels × 32 positions: 24 AVX-512 accumulators fed per tap by two column loads
    /// and 12 weight broadcasts (fused multiply-add, fp32), started from the bias or the output
    /// (later blocks of taps), ended with the residual; rows and lanes past the edges are masked.
    /// Unrolled by hand: the JIT keeps named vectors in registers, not arrays.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(float* w, float* columns, int kc, float* c, long ldc, int rows, int lanes, bool accumulate, float* bias,
        float* residual, long ldr)
    {
        var iota = Vector512<int>.Indices;
        var m0 = Vector512.LessThan(iota, Vector512.Create(lanes)).AsSingle();
        var m1 = Vector512.LessThan(iota, Vector512.Create(lanes - Half)).AsSingle();
        var zero = Vector512<float>.Zero;
        Vector512<float> a0 = zero, b0 = zero;
        Vector512<float> a1 = zero, b1 = zero;
        Vector512<float> a2 = zero, b2 = zero;
        Vector512<float> a3 = zero, b3 = zero;
        Vector512<float> a4 = zero, b4 = zero;
        Vector512<float> a5 = zero, b5 = zero;
        Vector512<float> a6 = zero, b6 = zero;
        Vector512<float> a7 = zero, b7 = zero;
        Vector512<float> a8 = zero, b8 = zero;
        Vector512<float> a9 = zero, b9 = zero;
        Vector512<float> a10 = zero, b10 = zero;
        Vector512<float> a11 = zero, b11 = zero;
        if (accumulate)
        {
            if (rows > 0) { a0 = Avx512F.MaskLoad(c + 0 * ldc, m0, zero); b0 = Avx512F.MaskLoad(c + 0 * ldc + 16, m1, zero); }
            if (rows > 1) { a1 = Avx512F.MaskLoad(c + 1 * ldc, m0, zero); b1 = Avx512F.MaskLoad(c + 1 * ldc + 16, m1, zero); }
            if (rows > 2) { a2 = Avx512F.MaskLoad(c + 2 * ldc, m0, zero); b2 = Avx512F.MaskLoad(c + 2 * ldc + 16, m1, zero); }
            if (rows > 3) { a3 = Avx512F.MaskLoad(c + 3 * ldc, m0, zero); b3 = Avx512F.MaskLoad(c + 3 * ldc + 16, m1, zero); }
            if (rows > 4) { a4 = Avx512F.MaskLoad(c + 4 * ldc, m0, zero); b4 = Avx512F.MaskLoad(c + 4 * ldc + 16, m1, zero); }
            if (rows > 5) { a5 = Avx512F.MaskLoad(c + 5 * ldc, m0, zero); b5 = Avx512F.MaskLoad(c + 5 * ldc + 16, m1, zero); }
            if (rows > 6) { a6 = Avx512F.MaskLoad(c + 6 * ldc, m0, zero); b6 = Avx512F.MaskLoad(c + 6 * ldc + 16, m1, zero); }
            if (rows > 7) { a7 = Avx512F.MaskLoad(c + 7 * ldc, m0, zero); b7 = Avx512F.MaskLoad(c + 7 * ldc + 16, m1, zero); }
            if (rows > 8) { a8 = Avx512F.MaskLoad(c + 8 * ldc, m0, zero); b8 = Avx512F.MaskLoad(c + 8 * ldc + 16, m1, zero); }
            if (rows > 9) { a9 = Avx512F.MaskLoad(c + 9 * ldc, m0, zero); b9 = Avx512F.MaskLoad(c + 9 * ldc + 16, m1, zero); }
            if (rows > 10) { a10 = Avx512F.MaskLoad(c + 10 * ldc, m0, zero); b10 = Avx512F.MaskLoad(c + 10 * ldc + 16, m1, zero); }
            if (rows > 11) { a11 = Avx512F.MaskLoad(c + 11 * ldc, m0, zero); b11 = Avx512F.MaskLoad(c + 11 * ldc + 16, m1, zero); }
        }
        else if (bias != null)
        {
            a0 = b0 = Vector512.Create(bias[0]);
            a1 = b1 = Vector512.Create(bias[1]);
            a2 = b2 = Vector512.Create(bias[2]);
            a3 = b3 = Vector512.Create(bias[3]);
            a4 = b4 = Vector512.Create(bias[4]);
            a5 = b5 = Vector512.Create(bias[5]);
            a6 = b6 = Vector512.Create(bias[6]);
            a7 = b7 = Vector512.Create(bias[7]);
            a8 = b8 = Vector512.Create(bias[8]);
            a9 = b9 = Vector512.Create(bias[9]);
            a10 = b10 = Vector512.Create(bias[10]);
            a11 = b11 = Vector512.Create(bias[11]);
        }
        for (int i = 0; i < kc; i++)
        {
            var x0 = Vector512.Load(columns);
            var x1 = Vector512.Load(columns + 16);
            columns += Lanes;
            var w0 = Vector512.Create(w[0]);
            a0 = Vector512.FusedMultiplyAdd(w0, x0, a0);
            b0 = Vector512.FusedMultiplyAdd(w0, x1, b0);
            var w1 = Vector512.Create(w[1]);
            a1 = Vector512.FusedMultiplyAdd(w1, x0, a1);
            b1 = Vector512.FusedMultiplyAdd(w1, x1, b1);
            var w2 = Vector512.Create(w[2]);
            a2 = Vector512.FusedMultiplyAdd(w2, x0, a2);
            b2 = Vector512.FusedMultiplyAdd(w2, x1, b2);
            var w3 = Vector512.Create(w[3]);
            a3 = Vector512.FusedMultiplyAdd(w3, x0, a3);
            b3 = Vector512.FusedMultiplyAdd(w3, x1, b3);
            var w4 = Vector512.Create(w[4]);
            a4 = Vector512.FusedMultiplyAdd(w4, x0, a4);
            b4 = Vector512.FusedMultiplyAdd(w4, x1, b4);
            var w5 = Vector512.Create(w[5]);
            a5 = Vector512.FusedMultiplyAdd(w5, x0, a5);
            b5 = Vector512.FusedMultiplyAdd(w5, x1, b5);
            var w6 = Vector512.Create(w[6]);
            a6 = Vector512.FusedMultiplyAdd(w6, x0, a6);
            b6 = Vector512.FusedMultiplyAdd(w6, x1, b6);
            var w7 = Vector512.Create(w[7]);
            a7 = Vector512.FusedMultiplyAdd(w7, x0, a7);
            b7 = Vector512.FusedMultiplyAdd(w7, x1, b7);
            var w8 = Vector512.Create(w[8]);
            a8 = Vector512.FusedMultiplyAdd(w8, x0, a8);
            b8 = Vector512.FusedMultiplyAdd(w8, x1, b8);
            var w9 = Vector512.Create(w[9]);
            a9 = Vector512.FusedMultiplyAdd(w9, x0, a9);
            b9 = Vector512.FusedMultiplyAdd(w9, x1, b9);
            var w10 = Vector512.Create(w[10]);
            a10 = Vector512.FusedMultiplyAdd(w10, x0, a10);
            b10 = Vector512.FusedMultiplyAdd(w10, x1, b10);
            var w11 = Vector512.Create(w[11]);
            a11 = Vector512.FusedMultiplyAdd(w11, x0, a11);
            b11 = Vector512.FusedMultiplyAdd(w11, x1, b11);
            w += Rows;
        }
        if (residual != null)
        {
            if (rows > 0) { a0 += Avx512F.MaskLoad(residual + 0 * ldr, m0, zero); b0 += Avx512F.MaskLoad(residual + 0 * ldr + 16, m1, zero); }
            if (rows > 1) { a1 += Avx512F.MaskLoad(residual + 1 * ldr, m0, zero); b1 += Avx512F.MaskLoad(residual + 1 * ldr + 16, m1, zero); }
            if (rows > 2) { a2 += Avx512F.MaskLoad(residual + 2 * ldr, m0, zero); b2 += Avx512F.MaskLoad(residual + 2 * ldr + 16, m1, zero); }
            if (rows > 3) { a3 += Avx512F.MaskLoad(residual + 3 * ldr, m0, zero); b3 += Avx512F.MaskLoad(residual + 3 * ldr + 16, m1, zero); }
            if (rows > 4) { a4 += Avx512F.MaskLoad(residual + 4 * ldr, m0, zero); b4 += Avx512F.MaskLoad(residual + 4 * ldr + 16, m1, zero); }
            if (rows > 5) { a5 += Avx512F.MaskLoad(residual + 5 * ldr, m0, zero); b5 += Avx512F.MaskLoad(residual + 5 * ldr + 16, m1, zero); }
            if (rows > 6) { a6 += Avx512F.MaskLoad(residual + 6 * ldr, m0, zero); b6 += Avx512F.MaskLoad(residual + 6 * ldr + 16, m1, zero); }
            if (rows > 7) { a7 += Avx512F.MaskLoad(residual + 7 * ldr, m0, zero); b7 += Avx512F.MaskLoad(residual + 7 * ldr + 16, m1, zero); }
            if (rows > 8) { a8 += Avx512F.MaskLoad(residual + 8 * ldr, m0, zero); b8 += Avx512F.MaskLoad(residual + 8 * ldr + 16, m1, zero); }
            if (rows > 9) { a9 += Avx512F.MaskLoad(residual + 9 * ldr, m0, zero); b9 += Avx512F.MaskLoad(residual + 9 * ldr + 16, m1, zero); }
            if (rows > 10) { a10 += Avx512F.MaskLoad(residual + 10 * ldr, m0, zero); b10 += Avx512F.MaskLoad(residual + 10 * ldr + 16, m1, zero); }
            if (rows > 11) { a11 += Avx512F.MaskLoad(residual + 11 * ldr, m0, zero); b11 += Avx512F.MaskLoad(residual + 11 * ldr + 16, m1, zero); }
        }
        if (rows > 0) { Avx512F.MaskStore(c + 0 * ldc, m0, a0); Avx512F.MaskStore(c + 0 * ldc + 16, m1, b0); }
        if (rows > 1) { Avx512F.MaskStore(c + 1 * ldc, m0, a1); Avx512F.MaskStore(c + 1 * ldc + 16, m1, b1); }
        if (rows > 2) { Avx512F.MaskStore(c + 2 * ldc, m0, a2); Avx512F.MaskStore(c + 2 * ldc + 16, m1, b2); }
        if (rows > 3) { Avx512F.MaskStore(c + 3 * ldc, m0, a3); Avx512F.MaskStore(c + 3 * ldc + 16, m1, b3); }
        if (rows > 4) { Avx512F.MaskStore(c + 4 * ldc, m0, a4); Avx512F.MaskStore(c + 4 * ldc + 16, m1, b4); }
        if (rows > 5) { Avx512F.MaskStore(c + 5 * ldc, m0, a5); Avx512F.MaskStore(c + 5 * ldc + 16, m1, b5); }
        if (rows > 6) { Avx512F.MaskStore(c + 6 * ldc, m0, a6); Avx512F.MaskStore(c + 6 * ldc + 16, m1, b6); }
        if (rows > 7) { Avx512F.MaskStore(c + 7 * ldc, m0, a7); Avx512F.MaskStore(c + 7 * ldc + 16, m1, b7); }
        if (rows > 8) { Avx512F.MaskStore(c + 8 * ldc, m0, a8); Avx512F.MaskStore(c + 8 * ldc + 16, m1, b8); }
        if (rows > 9) { Avx512F.MaskStore(c + 9 * ldc, m0, a9); Avx512F.MaskStore(c + 9 * ldc + 16, m1, b9); }
        if (rows > 10) { Avx512F.MaskStore(c + 10 * ldc, m0, a10); Avx512F.MaskStore(c + 10 * ldc + 16, m1, b10); }
        if (rows > 11) { Avx512F.MaskStore(c + 11 * ldc, m0, a11); Avx512F.MaskStore(c + 11 * ldc + 16, m1, b11); }
    }

    private void DisposeScratch()
    {
        foreach (var a in _columns)
            a.Dispose();
        foreach (var a in _plans)
            a.Dispose();
        foreach (var a in _planCounts)
            a.Dispose();
        _columns = [];
        _plans = [];
        _planCounts = [];
    }

    public void Dispose()
    {
        DisposeScratch();
        _bias.Dispose();
    }
}
