using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Gpu.Memory;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu;

/// <summary>
/// Projections. Up to <see cref="GemvKernels.MaxTokens"/> input rows take the matrix-vector
/// kernel (bandwidth-bound: weights read once, RMSNorm fused in); more rows take the
/// tensor-core GEMM on CUDA (bf16 weight runs, with the norm fused into the operand split) or
/// the tiled CUDA-core GEMM (fp32 runs, the simulator, or tensor cores switched off).
/// </summary>
public sealed partial class IlgpuBackend
{
    public void MatMul(DeviceMatrix weight, TensorSlice input, TensorSlice output, DeviceVector? bias, bool accumulate)
    {
        var (matrix, q8) = Weights(weight);
        var x = Tensor(input);
        var y = Tensor(output);
        var b = bias is null ? null : Vector(bias);
        BackendChecks.MatMul(weight, input, output, bias);
        if (input.Rows == 0)
            return;
        lock (_host.Gate)
        {
            if (matrix is null)
            {
                LaunchQ8(q8!, x, input, y, output, b, accumulate);
                return;
            }
            var norm = TakeNormFor(input, output);
            if (input.Rows <= GemvKernels.MaxTokens)
                LaunchGemv(matrix, x, input, y, output, b, accumulate, pairMode: false, norm);
            else
                LaunchGemm(matrix, input, output, b, accumulate, norm);
        }
    }

    public void GateUpSwiGlu(DeviceMatrix gateUp, TensorSlice input, TensorSlice output)
    {
        var (matrix, q8) = Weights(gateUp);
        var x = Tensor(input);
        var y = Tensor(output);
        BackendChecks.GateUpSwiGlu(gateUp, input, output);
        if (input.Rows == 0)
            return;
        lock (_host.Gate)
        {
            if (matrix is null)
            {
                GateUpSwiGluQ8(q8!, x, input, y, output);
                return;
            }
            var norm = TakeNormFor(input, output);
            if (input.Rows <= GemvKernels.MaxTokens)
            {
                LaunchGemv(matrix, x, input, y, output, null, accumulate: false, pairMode: true, norm);
                return;
            }
            var scratchTensor = ProductScratch(input.Rows, gateUp.Rows);
            var product = new TensorSlice(scratchTensor, 0, input.Rows, 0, gateUp.Rows);
            LaunchGemm(matrix, input, product, null, accumulate: false, norm);
            LaunchSwiGlu(scratchTensor, product, y, output);
        }
    }

    /// <summary>The weights as this backend holds them: a bf16/fp32 matrix or a q8 one (the other null), owned by this backend.</summary>
    private (GpuMatrix? Matrix, GpuQ8Matrix? Q8) Weights(DeviceMatrix weight) =>
        weight is GpuQ8Matrix q8 ? (null, Own(q8, "matrix")) : (Matrix(weight), null);

    private GpuTensor? _productScratch;

    private GpuTensor ProductScratch(int rows, int cols)
    {
        if (_productScratch is null || _productScratch.Rows < rows || _productScratch.Cols < cols)
        {
            int r = Math.Max(rows, _productScratch?.Rows ?? 0);
            int c = Math.Max(cols, _productScratch?.Cols ?? 0);
            if (_productScratch is not null)
            {
                _host.Stream.Synchronize();
                _productScratch.Dispose();
            }
            _productScratch = new GpuTensor(_host, r, c);
        }
        return _productScratch;
    }

    private void LaunchGemv(GpuMatrix matrix, GpuTensor x, TensorSlice input, GpuTensor y, TensorSlice output, GpuVector? bias,
        bool accumulate, bool pairMode, PendingNorm? norm)
    {
        GpuTensor source = x;
        TensorSlice sourceSlice = input;
        GpuTensor? normOut = null;
        if (norm is { } n)
        {
            source = Tensor(n.Source);
            sourceSlice = n.Source;
            normOut = x;
        }
        int xOffset = source.Offset(sourceSlice);
        int outputs = pairMode ? matrix.Rows / 2 : matrix.Rows;
        var args = new GemvArgs
        {
            Rows = outputs,
            K = matrix.Cols,
            Tokens = input.Rows,
            XOffset = xOffset,
            XStride = source.Cols,
            XAligned = xOffset % 4 == 0 && source.Cols % 4 == 0 ? 1 : 0,
            YOffset = y.Offset(output),
            YStride = y.Cols,
            HasBias = bias is null ? 0 : 1,
            Accumulate = accumulate ? 1 : 0,
            PairMode = pairMode ? 1 : 0,
            Norm = norm is null ? 0 : 1,
            Eps = norm?.Eps ?? 0f,
            NormOutOffset = normOut is null ? 0 : x.Offset(input),
            NormOutStride = normOut is null ? 0 : x.Cols,
            Exchange = Exchange,
        };
        var normWeight = norm?.Weight;
        // Not flushed: TakeNormFor has, keeping back the norm fused here.
        Launch(pairMode ? "GateUpSwiGlu" : "MatMul", (matrix, source, y, bias, normWeight, normOut, args), static (b, s) =>
            b._kernels.Gemv.Value(b._host.Stream, new KernelConfig(b.Groups(GemvKernels.GridSize(s.args.Rows, s.args.PairMode != 0, b.Threads(GemvKernels.Threads))), b.Threads(GemvKernels.Threads)),
                s.matrix.View, s.matrix.Descriptor, s.source.View, s.source.Vectors, s.y.View, s.bias?.View ?? b._workspace.Dummy,
                s.normWeight?.View ?? b._workspace.Dummy, s.normWeight?.Vectors ?? b._workspace.DummyUnits, s.normOut?.View ?? b._workspace.Dummy, s.args),
            static s => $"{s.matrix.Name} {s.matrix.Rows}×{s.matrix.Cols}, {s.args.Tokens} rows{(s.args.Norm == 0 ? "" : ", RMSNorm fused")}", flush: false);
    }

    private bool UseTensorCores(GpuMatrix matrix) =>
        Options.TensorCores && matrix.HasBf16Rows && (_host.IsCuda || Options.EmulateTensorCores);

    private void LaunchGemm(GpuMatrix matrix, TensorSlice input, TensorSlice output, GpuVector? bias, bool accumulate, PendingNorm? norm)
    {
        var y = Tensor(output);
        if (!UseTensorCores(matrix))
        {
            if (norm is { } pending)
                LaunchNorm(pending);
            LaunchSimt(matrix, input, y, output, bias, accumulate, firstRow: 0);
            return;
        }

        bool exact = Options.Precision == GemmPrecision.Exact;
        int m = input.Rows;
        int k = matrix.Cols;
        int paddedK = MmaGemmKernels.PaddedK(k);
        long words = (long)m * paddedK / 2;
        var high = _workspace.Words("mma.high", words);
        var low = exact ? _workspace.Words("mma.low", words) : high;
        LaunchSplit(input, norm, high, low, paddedK, exact);

        foreach (var run in matrix.Runs)
        {
            if (run.Rows == 0)
                continue;
            if (run.F32)
            {
                // fp32 rows (merged LoRA) read the activations the split kernel normalised into the input slice.
                LaunchSimt(matrix, input, y, output, bias, accumulate, run.FirstRow, run.Rows);
                continue;
            }
            LaunchMma(matrix, run, m, paddedK, high, low, y, output, bias, accumulate, exact);
        }
    }

    private void LaunchSplit(TensorSlice input, PendingNorm? norm, ArrayView<uint> high, ArrayView<uint> low, int paddedK, bool exact)
    {
        var x = Tensor(input);
        GpuTensor source = x;
        TensorSlice sourceSlice = input;
        if (norm is { } n)
        {
            source = Tensor(n.Source);
            sourceSlice = n.Source;
        }
        var args = new SplitArgs
        {
            Rows = input.Rows,
            K = input.Cols,
            PaddedK = paddedK,
            XOffset = source.Offset(sourceSlice),
            XStride = source.Cols,
            Norm = norm is null ? 0 : 1,
            Eps = norm?.Eps ?? 0f,
            NormOutOffset = x.Offset(input),
            NormOutStride = x.Cols,
            WriteLow = exact ? 1 : 0,
            Exchange = Exchange,
        };
        Launch("MatMul (bf16 operand split)", (source, x, normWeight: norm?.Weight, high, low, args), static (b, s) =>
            b._kernels.SplitOperand.Value(b._host.Stream, new KernelConfig(b.Groups(s.args.Rows), b.Threads(RowKernels.Threads)), s.source.View,
                s.normWeight?.View ?? b._workspace.Dummy, s.x.View, s.high, s.low, s.args),
            static s => $"{s.args.Rows}×{s.args.K}{(s.args.Norm == 0 ? "" : ", RMSNorm fused")}", flush: false);
    }

    private void LaunchMma(GpuMatrix matrix, MatrixRun run, int m, int paddedK, ArrayView<uint> high, ArrayView<uint> low,
        GpuTensor y, TensorSlice output, GpuVector? bias, bool accumulate, bool exact)
    {
        bool emulated = !_host.IsCuda;
        var kernel = (exact, emulated) switch
        {
            (true, false) => _kernels.MmaExact.Value,
            (false, false) => _kernels.MmaFast.Value,
            (true, true) => _kernels.MmaEmulatedExact.Value,
            _ => _kernels.MmaEmulatedFast.Value,
        };
        var highUnits = high.Cast<U4>();
        var lowUnits = low.Cast<U4>();
        var args = new MmaArgs
        {
            M = m,
            N = run.Rows,
            KTiles = paddedK / MmaGemmKernels.TileK,
            ARowUnits = paddedK / 8,
            WeightOffset = run.UnitOffset,
            WeightGroups = matrix.Groups,
            YOffset = y.Offset(output) + run.FirstRow,
            YStride = y.Cols,
            HasBias = bias is null ? 0 : 1,
            Accumulate = accumulate ? 1 : 0,
            WeightAddress = emulated ? 0 : DeviceAddress(matrix.View),
            HiAddress = emulated ? 0 : DeviceAddress(highUnits),
            LowAddress = emulated ? 0 : DeviceAddress(lowUnits),
        };
        var biasView = bias is null ? _workspace.Dummy : bias.View.SubView(run.FirstRow, run.Rows);
        int mTiles = (m + MmaGemmKernels.Tile - 1) / MmaGemmKernels.Tile;
        int nTiles = (run.Rows + MmaGemmKernels.Tile - 1) / MmaGemmKernels.Tile;
        // Split K when the tiles alone cannot keep two groups per multiprocessor streaming weights
        // (on CUDA at least 4 K tiles per split, so the pipeline still has work to overlap).
        int kTiles = args.KTiles;
        int wanted = (2 * _host.Multiprocessors + mTiles * nTiles - 1) / (mTiles * nTiles);
        int splits = Math.Clamp(wanted, 1, Math.Max(1, kTiles / (_host.IsCuda ? 4 : 1)));
        int tilesPerSplit = (kTiles + splits - 1) / splits;
        splits = (kTiles + tilesPerSplit - 1) / tilesPerSplit;
        args.TilesPerSplit = tilesPerSplit;
        args.Splits = splits;
        if (splits > 1 && !accumulate)
            LaunchClear(y, new TensorSlice(output.Tensor, output.Row, output.Rows, output.Col + run.FirstRow, run.Rows));
        var config = new KernelConfig(new Index3D(mTiles, nTiles, splits), new Index3D(MmaGemmKernels.Threads, 1, 1),
            SharedMemoryConfig.RequestDynamic<U4>(MmaGemmKernels.SharedBytes(exact) / 16));
        Launch("MatMul (tensor cores)", (kernel, config, matrix, highUnits, lowUnits, y, biasView, args, run, exact), static (b, s) =>
                s.kernel(b._host.Stream, s.config, s.matrix.View, s.highUnits, s.lowUnits, s.y.View, s.biasView, s.args),
            static s => $"{s.matrix.Name} rows {s.run.FirstRow}…{s.run.FirstRow + s.run.Rows - 1} × {s.matrix.Cols}, {s.args.M} input rows, {(s.exact ? "exact" : "fast")}",
            flush: false);
    }

    private void LaunchClear(GpuTensor y, TensorSlice slice) =>
        Launch("MatMul (clear for split-K)", (y, slice), static (b, s) =>
            b._kernels.Clear.Value(b._host.Stream, new KernelConfig(b.Groups(s.slice.Rows), b.Threads(RowKernels.Threads)), s.y.View,
                new RowArgs { Rows = s.slice.Rows, DestinationOffset = s.y.Offset(s.slice), DestinationStride = s.y.Cols, Width = s.slice.Cols }),
            static s => $"{s.slice.Rows}×{s.slice.Cols}", flush: false);

    private void LaunchSimt(GpuMatrix matrix, TensorSlice input, GpuTensor y, TensorSlice output, GpuVector? bias, bool accumulate, int firstRow, int rows = -1)
    {
        var x = Tensor(input);
        int n = rows < 0 ? matrix.Rows : rows;
        var args = new GemmArgs
        {
            M = input.Rows,
            N = n,
            K = matrix.Cols,
            XOffset = x.Offset(input),
            XStride = x.Cols,
            YOffset = y.Offset(output) + firstRow,
            YStride = y.Cols,
            HasBias = bias is null ? 0 : 1,
            Accumulate = accumulate ? 1 : 0,
        };
        var descriptor = firstRow == 0 ? matrix.Descriptor : Shifted(matrix, firstRow);
        var biasView = bias is null ? _workspace.Dummy : bias.View.SubView(firstRow, n);
        int threads = Threads(GemmSimtKernels.Threads);
        int tileM = GemmSimtKernels.TileM(threads);
        long tiles = (long)((n + GemmSimtKernels.TileN - 1) / GemmSimtKernels.TileN) * ((input.Rows + tileM - 1) / tileM);
        Launch("MatMul (CUDA cores)", (matrix, descriptor, x, y, biasView, args, tiles, threads), static (b, s) =>
                b._kernels.GemmSimt.Value(b._host.Stream, new KernelConfig(b.Groups(s.tiles), s.threads),
                    s.matrix.View, s.descriptor, s.x.View, s.y.View, s.biasView, s.args),
            static s => $"{s.matrix.Name} {s.args.N}×{s.matrix.Cols}, {s.args.M} input rows", flush: false);
    }

    /// <summary>The descriptor of the rows from <paramref name="firstRow"/> on, as if they were a matrix of their own.</summary>
    private static MatrixRuns Shifted(GpuMatrix matrix, int firstRow)
    {
        var run = matrix.Runs.Single(r => r.FirstRow == firstRow);
        return new MatrixRuns
        {
            Groups = matrix.Groups,
            Start1 = int.MaxValue, Start2 = int.MaxValue, Start3 = int.MaxValue,
            Offset0 = run.UnitOffset,
            F32Bits = run.F32 ? 1 : 0,
        };
    }

    private static ulong DeviceAddress<T>(ArrayView<T> view) where T : unmanaged =>
        (ulong)view.LoadEffectiveAddressAsPtr().ToInt64();
}
