using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Numerics;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Gemm;

namespace Ellsa.Kernels.Cpu
{
    public sealed unsafe partial class CpuBackend
    {
        public void WeightGemm<TFn>(DeviceMatrix weight, TensorSlice input, TensorSlice output, DeviceVector? bias, bool accumulate, TFn then)
            where TFn : struct, IUnaryFunctor
        {
            Ops.Gemm.WeightGemm.Check<TFn>(weight, input, output, bias, accumulate);
            if (input.Rows == 0)
                return;
            if (Isa != CpuIsa.Avx512 || !Vector512.IsHardwareAccelerated || ((CpuMatrix)weight).RowKernelsOnly)
            {
                // Below AVX-512 (and for Q8 or packed bf16 weights, which have no panels) the SA-MoE's product serves, and the function follows in place.
                MatMul(weight, input, output, bias, accumulate);
                if (typeof(TFn) != typeof(Copy))
                    Unary(output, output, then);
                return;
            }
            lock (_gate)
            {
                var matrix = (CpuMatrix)weight;
                var packed = PackedWeights.Of(matrix, PackedGemm.Width, bf16: matrix.AllBf16);
                if (packed.Bf16)
                    Run(Job<PackedGemmJob<Bf16Panel, TFn>>(), packed, input, output, bias, accumulate, then);
                else
                    Run(Job<PackedGemmJob<Fp32Panel, TFn>>(), packed, input, output, bias, accumulate, then);
            }
        }

        private void Run<TPanel, TFn>(PackedGemmJob<TPanel, TFn> job, PackedWeights packed, TensorSlice input, TensorSlice output, DeviceVector? bias,
            bool accumulate, TFn then)
            where TPanel : struct, IPanelFormat
            where TFn : struct, IUnaryFunctor
        {
            int n = output.Cols;
            job.A = At(input);
            job.Lda = input.Tensor.Cols;
            job.M = input.Rows;
            job.K = input.Cols;
            job.N = n;
            job.B = (byte*)packed.Panels.Pointer;
            job.SetBias(bias is null ? null : ((CpuVector)bias).Storage.Pointer, n);
            job.C = At(output);
            job.Ldc = output.Tensor.Cols;
            job.Accumulate = accumulate;
            job.Then = then;
            int items = job.Plan(_pool.ThreadCount);
            job.EnsureScratch(_pool.ThreadCount);
            _pool.Run(job, items);
        }
    }

    /// <summary>
    /// A weight matrix laid out as panels of <see cref="Width"/> output rows, [panel][k][Width], the
    /// last panel zero-padded: fp32, or (<see cref="Bf16"/>) the stored bf16 values as they are, two
    /// per 32-bit lane (column c of the panel in the low half of lane c, column c + 16 in the high
    /// half), so one 512-bit load gives 32 weights and a shift and a mask widen them exactly. Made on
    /// first use by a many-row product (the GEMM's panels of 32, the implicit convolution's fp32
    /// panels of 12) and kept with the matrix.
    /// </summary>
    internal sealed unsafe class PackedWeights : IDisposable
    {
        public required int Width { get; init; }

        public required bool Bf16 { get; init; }

        /// <summary>The panels' bytes (fp32 values, or bf16 pairs in 32-bit lanes).</summary>
        public required NativeArray<float> Panels { get; init; }

        /// <summary>The matrix's panels of this width and format, packed now unless already kept (a matrix serves one product, so it is packed once).</summary>
        public static PackedWeights Of(CpuMatrix matrix, int width, bool bf16 = false)
        {
            if (matrix.Packed is { } kept && kept.Width == width && kept.Bf16 == bf16)
                return kept;
            matrix.Packed?.Dispose();
            return matrix.Packed = bf16 ? PackBf16(matrix, width) : Pack(matrix, width);
        }

        private static PackedWeights Pack(CpuMatrix matrix, int width)
        {
            int n = matrix.Rows, k = matrix.Cols, panels = (n + width - 1) / width;
            var data = new NativeArray<float>((long)panels * k * width);
            for (int row = 0; row < n; row++)
            {
                int local = matrix.Locate(row, out var part);
                float* target = data.Pointer + (long)(row / width) * k * width + row % width;
                if (part.Dtype == WeightDtype.BF16)
                {
                    ushort* source = (ushort*)part.Data + (long)local * k;
                    for (int i = 0; i < k; i++)
                        target[(long)i * width] = BFloat16.ToSingle(source[i]);
                }
                else
                {
                    float* source = (float*)part.Data + (long)local * k;
                    for (int i = 0; i < k; i++)
                        target[(long)i * width] = source[i];
                }
            }
            return new PackedWeights { Width = width, Bf16 = false, Panels = data };
        }

        /// <summary>Every part is bf16: the values are copied, not widened (half the bytes for every product to read).</summary>
        private static PackedWeights PackBf16(CpuMatrix matrix, int width)
        {
            int n = matrix.Rows, k = matrix.Cols, panels = (n + width - 1) / width, half = width / 2;
            var data = new NativeArray<float>((long)panels * k * half);
            var target = (ushort*)data.Pointer;
            for (int row = 0; row < n; row++)
            {
                int local = matrix.Locate(row, out var part);
                int column = row % width;
                ushort* panel = target + (long)(row / width) * k * width + 2 * (column % half) + column / half;
                ushort* source = (ushort*)part.Data + (long)local * k;
                for (int i = 0; i < k; i++)
                    panel[(long)i * width] = source[i];
            }
            return new PackedWeights { Width = width, Bf16 = true, Panels = data };
        }

        public void Dispose() => Panels.Dispose();
    }

    /// <summary>How a micro-kernel reads one k step of a 32-wide panel.</summary>
    internal unsafe interface IPanelFormat
    {
        /// <summary>Bytes of one k step (32 weights).</summary>
        static abstract int StepBytes { get; }

        /// <summary>The 32 weights of the step at <paramref name="b"/>: columns 0…15 and 16…31.</summary>
        static abstract void Load(byte* b, out Vector512<float> low, out Vector512<float> high);
    }

    internal unsafe struct Fp32Panel : IPanelFormat
    {
        public static int StepBytes => 128;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Load(byte* b, out Vector512<float> low, out Vector512<float> high)
        {
            low = Vector512.Load((float*)b);
            high = Vector512.Load((float*)b + 16);
        }
    }

    /// <summary>bf16 pairs: the low half of each lane shifted up, the high half masked, both exact fp32.</summary>
    internal unsafe struct Bf16Panel : IPanelFormat
    {
        public static int StepBytes => 64;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Load(byte* b, out Vector512<float> low, out Vector512<float> high)
        {
            var pairs = Vector512.Load((uint*)b);
            low = Vector512.ShiftLeft(pairs, 16).AsSingle();
            high = (pairs & Vector512.Create(0xFFFF0000u)).AsSingle();
        }
    }

    internal static class PackedGemm
    {
        /// <summary>Output columns per panel: two AVX-512 vectors.</summary>
        public const int Width = 32;
        /// <summary>Rows per micro-tile.</summary>
        public const int Rows = 8;
        /// <summary>Input rows per work item: each panel is read once from the shared cache and stays in the core's own while its micro-tiles run.</summary>
        public const int ChunkRows = 64;
    }

    /// <summary>
    /// 8 rows × 32 columns per micro-tile: 16 AVX-512 accumulators fed by one panel step and eight
    /// broadcasts per k, all in registers (fused multiply-add, fp32 accumulation); the epilogue adds
    /// the output (accumulate) or applies the function, per tile, while it is in cache. Work items are
    /// a chunk of rows × a group of panels: a few rows (a streaming step of the speech encoder) still
    /// spread over every worker. A short last micro-tile runs on a zero-padded copy of its rows.
    /// Written by hand because no .NET library offers an fp32 GEMM (System.Numerics.Tensors stops at
    /// dot products).
    /// </summary>
    internal sealed unsafe class PackedGemmJob<TPanel, TFn> : IParallelWork, IDisposable
        where TPanel : struct, IPanelFormat
        where TFn : struct, IUnaryFunctor
    {
        private const int Rows = PackedGemm.Rows, Width = PackedGemm.Width, ChunkRows = PackedGemm.ChunkRows;
        /// <summary>k steps per block: a micro-tile's rows of one block (16 KB) stay in the first-level cache.</summary>
        private const int BlockK = 512;
        /// <summary>Panels per item when k is blocked: the partial tile of 64 rows × 512 columns (128 KB) stays in the second-level cache.</summary>
        private const int MaxPartialPanels = 16;

        public float* A, C;
        public byte* B;
        public int Lda, Ldc, M, K, N;
        public bool Accumulate;
        public TFn Then;
        private int _panelGroups, _groupPanels;
        private NativeArray<float>[] _tiles = [];
        private long _tileFloats = -1;
        /// <summary>The call's bias padded to whole panels (zeros without one): the micro-tile loads 32 at a time.</summary>
        private NativeArray<float> _bias = new(0);

        public void SetBias(float* bias, int n)
        {
            long padded = (n + Width - 1) / Width * Width;
            if (_bias.Length < padded)
            {
                _bias.Dispose();
                _bias = new NativeArray<float>(padded);
            }
            var target = _bias.AsSpan(0, (int)padded);
            target.Clear();
            if (bias != null)
                new ReadOnlySpan<float>(bias, n).CopyTo(target);
        }

        /// <summary>Per worker: the short micro-tile's rows, its output tile, and (k in several blocks) the item's partial sums; after <see cref="Plan"/>.</summary>
        public void EnsureScratch(int workers)
        {
            long floats = (long)Rows * K + Rows * Width + (K > BlockK ? (long)ChunkRows * _groupPanels * Width : 0);
            if (_tiles.Length == workers && _tileFloats >= floats)
                return;
            foreach (var tile in _tiles)
                tile.Dispose();
            _tiles = new NativeArray<float>[workers];
            for (int i = 0; i < workers; i++)
                _tiles[i] = new NativeArray<float>(floats, zero: false);
            _tileFloats = floats;
        }

        /// <summary>
        /// Splits the panels into groups when there are too few row chunks to keep every worker busy
        /// (and, when k comes in several blocks, into groups whose partial tile stays small); returns the work items.
        /// </summary>
        public int Plan(int workers)
        {
            int rowChunks = (M + ChunkRows - 1) / ChunkRows, panels = (N + Width - 1) / Width;
            int groups = Math.Clamp((4 * workers + rowChunks - 1) / rowChunks, 1, panels);
            _groupPanels = (panels + groups - 1) / groups;
            if (K > BlockK)
                _groupPanels = Math.Min(_groupPanels, MaxPartialPanels);
            _panelGroups = (panels + _groupPanels - 1) / _groupPanels;
            return rowChunks * _panelGroups;
        }

        public void Dispose()
        {
            foreach (var tile in _tiles)
                tile.Dispose();
            _tiles = [];
            _bias.Dispose();
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int item, int worker)
        {
            int chunkFirst = item / _panelGroups * ChunkRows, chunkEnd = Math.Min(M, chunkFirst + ChunkRows);
            int firstPanel = item % _panelGroups * _groupPanels;
            int endPanel = Math.Min((N + Width - 1) / Width, firstPanel + _groupPanels);
            float* tileA = _tiles[worker].Pointer;
            float* tileC = tileA + (long)Rows * K;
            float* partial = tileC + Rows * Width;
            int partialStride = _groupPanels * Width;
            // The short last micro-tile's rows, zero-padded once for every panel of the item.
            int wholeEnd = chunkFirst + (chunkEnd - chunkFirst) / Rows * Rows, shortRows = chunkEnd - wholeEnd;
            if (shortRows > 0)
            {
                new Span<float>(tileA, Rows * K).Clear();
                for (int r = 0; r < shortRows; r++)
                    new ReadOnlySpan<float>(A + (long)(wholeEnd + r) * Lda, K).CopyTo(new Span<float>(tileA + (long)r * K, K));
            }
            // k in blocks: a micro-tile's rows of one block stay in the core's first cache while every
            // panel of the item passes them (a whole row of 4800 or 12800 inputs would not). The sums
            // between blocks go through the partial tile unrounded, so the result is the same for
            // any blocking: bias, then every k in order.
            int blocks = (K + BlockK - 1) / BlockK;
            for (int kb = 0; kb < blocks; kb++)
            {
                int k0 = kb * BlockK, kLength = Math.Min(BlockK, K - k0);
                bool firstBlock = kb == 0, lastBlock = kb == blocks - 1;
                for (int p = firstPanel; p < endPanel; p++)
                {
                    int col = p * Width;
                    int cols = Math.Min(Width, N - col);
                    byte* panel = B + ((long)p * K + k0) * TPanel.StepBytes;
                    for (int first = chunkFirst; first < chunkEnd; first += Rows)
                    {
                        int rows = Math.Min(Rows, chunkEnd - first);
                        float* a = (rows == Rows ? A + (long)first * Lda : tileA) + k0;
                        int lda = rows == Rows ? Lda : K;
                        float* part = partial + (long)(first - chunkFirst) * partialStride + (p - firstPanel) * Width;
                        float* start = firstBlock ? _bias.Pointer + col : part;
                        int startStride = firstBlock ? 0 : partialStride;
                        if (!lastBlock)
                        {
                            Tile(a, lda, panel, kLength, start, startStride, part, partialStride, accumulate: false);
                            continue;
                        }
                        bool whole = rows == Rows && cols == Width;
                        float* c = whole ? C + (long)first * Ldc + col : tileC;
                        Tile(a, lda, panel, kLength, start, startStride, c, whole ? Ldc : Width, whole && Accumulate);
                        if (whole)
                            continue;
                        for (int r = 0; r < rows; r++)
                        {
                            var source = new ReadOnlySpan<float>(tileC + r * Width, cols);
                            var target = new Span<float>(C + (long)(first + r) * Ldc + col, cols);
                            if (Accumulate)
                                TensorPrimitives.Add(source, target, target);
                            else
                                source.CopyTo(target);
                        }
                    }
                }
            }
            if (typeof(TFn) == typeof(Copy))
                return;
            // The function over each row's columns of the item at once, while they are still in cache.
            int firstCol = firstPanel * Width, endCol = Math.Min(N, endPanel * Width);
            for (int row = chunkFirst; row < chunkEnd; row++)
            {
                var run = new Span<float>(C + (long)row * Ldc + firstCol, endCol - firstCol);
                UnaryRuns.Apply(Then, run, run);
            }
        }

        /// <summary>
        /// One micro-tile over k steps: the accumulators start from <paramref name="start"/> (the bias
        /// for every row when <paramref name="startStride"/> is 0, else a partial tile's rows) and are
        /// stored to <paramref name="c"/>, added to what it holds when <paramref name="accumulate"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Tile(float* a, int lda, byte* b, int k, float* start, int startStride, float* c, int ldc, bool accumulate)
        {
            Vector512<float> c00 = Vector512.Load(start), c01 = Vector512.Load(start + 16); start += startStride;
            Vector512<float> c10 = Vector512.Load(start), c11 = Vector512.Load(start + 16); start += startStride;
            Vector512<float> c20 = Vector512.Load(start), c21 = Vector512.Load(start + 16); start += startStride;
            Vector512<float> c30 = Vector512.Load(start), c31 = Vector512.Load(start + 16); start += startStride;
            Vector512<float> c40 = Vector512.Load(start), c41 = Vector512.Load(start + 16); start += startStride;
            Vector512<float> c50 = Vector512.Load(start), c51 = Vector512.Load(start + 16); start += startStride;
            Vector512<float> c60 = Vector512.Load(start), c61 = Vector512.Load(start + 16); start += startStride;
            Vector512<float> c70 = Vector512.Load(start), c71 = Vector512.Load(start + 16);
            float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda, a6 = a + 6 * lda, a7 = a + 7 * lda;
            for (int i = 0; i < k; i++)
            {
                TPanel.Load(b, out var b0, out var b1);
                b += TPanel.StepBytes;
                var x = Vector512.Create(a0[i]);
                c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
                c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
                x = Vector512.Create(a1[i]);
                c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
                c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
                x = Vector512.Create(a2[i]);
                c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
                c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
                x = Vector512.Create(a3[i]);
                c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
                c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
                x = Vector512.Create(a4[i]);
                c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
                c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
                x = Vector512.Create(a5[i]);
                c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
                c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
                x = Vector512.Create(a6[i]);
                c60 = Vector512.FusedMultiplyAdd(x, b0, c60);
                c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
                x = Vector512.Create(a7[i]);
                c70 = Vector512.FusedMultiplyAdd(x, b0, c70);
                c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            }
            if (accumulate)
            {
                // The residual added after the product, as a separate add would: out + (x·W + b).
                Store(c, c00 + Vector512.Load(c), c01 + Vector512.Load(c + 16)); c += ldc;
                Store(c, c10 + Vector512.Load(c), c11 + Vector512.Load(c + 16)); c += ldc;
                Store(c, c20 + Vector512.Load(c), c21 + Vector512.Load(c + 16)); c += ldc;
                Store(c, c30 + Vector512.Load(c), c31 + Vector512.Load(c + 16)); c += ldc;
                Store(c, c40 + Vector512.Load(c), c41 + Vector512.Load(c + 16)); c += ldc;
                Store(c, c50 + Vector512.Load(c), c51 + Vector512.Load(c + 16)); c += ldc;
                Store(c, c60 + Vector512.Load(c), c61 + Vector512.Load(c + 16)); c += ldc;
                Store(c, c70 + Vector512.Load(c), c71 + Vector512.Load(c + 16));
                return;
            }
            Store(c, c00, c01); c += ldc;
            Store(c, c10, c11); c += ldc;
            Store(c, c20, c21); c += ldc;
            Store(c, c30, c31); c += ldc;
            Store(c, c40, c41); c += ldc;
            Store(c, c50, c51); c += ldc;
            Store(c, c60, c61); c += ldc;
            Store(c, c70, c71);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* c, Vector512<float> low, Vector512<float> high)
        {
            low.Store(c);
            high.Store(c + 16);
        }
    }
}
