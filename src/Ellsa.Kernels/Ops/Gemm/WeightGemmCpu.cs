using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Numerics;
using Ellsa.Kernels.Ops.Gemm;

namespace Ellsa.Kernels.Cpu
{
    public sealed unsafe partial class CpuBackend
    {
        public void WeightGemm(DeviceMatrix weight, TensorSlice input, TensorSlice output, DeviceVector? bias)
        {
            Ops.Gemm.WeightGemm.Check(weight, input, output, bias);
            if (Isa != CpuIsa.Avx512 || !Vector512.IsHardwareAccelerated || input.Rows < PackedGemmJob.Rows)
            {
                MatMul(weight, input, output, bias, accumulate: false);
                return;
            }
            lock (_gate)
            {
                var packed = PackedWeights.Of((CpuMatrix)weight, PackedGemmJob.Width);
                var job = Job<PackedGemmJob>();
                job.A = At(input);
                job.Lda = input.Tensor.Cols;
                job.M = input.Rows;
                job.K = weight.Cols;
                job.N = weight.Rows;
                job.B = packed.Panels.Pointer;
                job.SetBias(bias is null ? null : ((CpuVector)bias).Storage.Pointer, weight.Rows);
                job.C = At(output);
                job.Ldc = output.Tensor.Cols;
                job.EnsureScratch(_pool.ThreadCount, weight.Cols);
                _pool.Run(job, (input.Rows + PackedGemmJob.ChunkRows - 1) / PackedGemmJob.ChunkRows);
            }
        }
    }

    /// <summary>
    /// A weight matrix widened to fp32 and laid out as panels of <see cref="Width"/> output rows:
    /// [panel][k][Width], the last panel zero-padded. Made on first use by a many-row product (the
    /// GEMM's panels of 32, the implicit convolution's 12) and kept with the matrix.
    /// </summary>
    internal sealed unsafe class PackedWeights : IDisposable
    {
        public required int Width { get; init; }

        public required NativeArray<float> Panels { get; init; }

        /// <summary>The matrix's panels of this width, packed now unless already kept (a matrix serves one product, so it is packed once).</summary>
        public static PackedWeights Of(CpuMatrix matrix, int width)
        {
            if (matrix.Packed is { } kept && kept.Width == width)
                return kept;
            matrix.Packed?.Dispose();
            return matrix.Packed = Pack(matrix, width);
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
            return new PackedWeights { Width = width, Panels = data };
        }

        public void Dispose() => Panels.Dispose();
    }

    /// <summary>
    /// 8 rows × 32 columns per micro-tile: 16 AVX-512 accumulators fed by two panel loads and eight
    /// broadcasts per k, all in registers (fused multiply-add, fp32 accumulation). A short last
    /// micro-tile goes through a zero-padded copy. Written by hand
    /// because no .NET library offers an fp32 GEMM (System.Numerics.Tensors stops at dot products).
    /// </summary>
    internal sealed unsafe class PackedGemmJob : IParallelWork, IDisposable
    {
        public const int Rows = 8;
        /// <summary>Output columns per panel: two AVX-512 vectors.</summary>
        public const int Width = 32;
        public const int ChunkRows = 64;

        public float* A, B, C;
        public int Lda, Ldc, M, K, N;
        private NativeArray<float>[] _tiles = [];
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
        private int _tileK = -1;

        public void EnsureScratch(int workers, int k)
        {
            if (_tiles.Length == workers && _tileK >= k)
                return;
            foreach (var tile in _tiles)
                tile.Dispose();
            _tiles = new NativeArray<float>[workers];
            for (int i = 0; i < workers; i++)
                _tiles[i] = new NativeArray<float>((long)Rows * k + Rows * Width);
            _tileK = k;
        }

        public void Dispose()
        {
            foreach (var tile in _tiles)
                tile.Dispose();
            _tiles = [];
            _bias.Dispose();
        }

        /// <summary>
        /// One chunk is <see cref="ChunkRows"/> input rows: each panel is read once from the shared
        /// cache and stays in the core's own while its micro-tiles run (a chunk of one micro-tile
        /// would stream every panel again for each 8 rows).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int chunk, int worker)
        {
            int chunkFirst = chunk * ChunkRows, chunkEnd = Math.Min(M, chunkFirst + ChunkRows);
            float* tileA = _tiles[worker].Pointer;
            float* tileC = tileA + (long)Rows * K;
            int panels = (N + Width - 1) / Width;
            for (int p = 0; p < panels; p++)
            {
                int col = p * Width;
                int cols = Math.Min(Width, N - col);
                float* panel = B + (long)p * K * Width;
                for (int first = chunkFirst; first < chunkEnd; first += Rows)
                {
                    int rows = Math.Min(Rows, chunkEnd - first);
                    float* a = A + (long)first * Lda;
                    int lda = Lda;
                    if (rows < Rows)
                    {
                        new Span<float>(tileA, Rows * K).Clear();
                        for (int r = 0; r < rows; r++)
                            new ReadOnlySpan<float>(a + (long)r * Lda, K).CopyTo(new Span<float>(tileA + (long)r * K, K));
                        a = tileA;
                        lda = K;
                    }
                    bool whole = rows == Rows && cols == Width;
                    float* c = whole ? C + (long)first * Ldc + col : tileC;
                    Tile(a, lda, panel, K, _bias.Pointer + col, c, whole ? Ldc : Width);
                    if (!whole)
                    {
                        for (int r = 0; r < rows; r++)
                            new ReadOnlySpan<float>(tileC + r * Width, cols).CopyTo(new Span<float>(C + (long)(first + r) * Ldc + col, cols));
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Tile(float* a, int lda, float* b, int k, float* bias, float* c, int ldc)
        {
            var bias0 = Vector512.Load(bias);
            var bias1 = Vector512.Load(bias + 16);
            Vector512<float> c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1, c30 = bias0, c31 = bias1;
            Vector512<float> c40 = bias0, c41 = bias1, c50 = bias0, c51 = bias1, c60 = bias0, c61 = bias1, c70 = bias0, c71 = bias1;
            float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda, a6 = a + 6 * lda, a7 = a + 7 * lda;
            for (int i = 0; i < k; i++)
            {
                var b0 = Vector512.Load(b);
                var b1 = Vector512.Load(b + 16);
                b += 32;
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
            c00.Store(c); c01.Store(c + 16); c += ldc;
            c10.Store(c); c11.Store(c + 16); c += ldc;
            c20.Store(c); c21.Store(c + 16); c += ldc;
            c30.Store(c); c31.Store(c + 16); c += ldc;
            c40.Store(c); c41.Store(c + 16); c += ldc;
            c50.Store(c); c51.Store(c + 16); c += ldc;
            c60.Store(c); c61.Store(c + 16); c += ldc;
            c70.Store(c); c71.Store(c + 16);
        }
    }
}
