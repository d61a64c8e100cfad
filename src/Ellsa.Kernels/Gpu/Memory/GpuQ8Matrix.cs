using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Gpu.Platform;
using Ellsa.Kernels.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu.Memory;

/// <summary>
/// A Q8 weight matrix in device memory: each row's int8 values padded with zeros to whole blocks of
/// 32 (two 16-byte units per block, so a lane reads a block in two vector loads), and the fp16
/// scales packed two per 32-bit word, each row's words padded to a whole word.
/// </summary>
internal sealed class GpuQ8Matrix : DeviceMatrix
{
    private readonly MemoryBuffer1D<U4, Stride1D.Dense> _quants;
    private readonly MemoryBuffer1D<uint, Stride1D.Dense> _scales;

    private GpuQ8Matrix(AcceleratorHost host, HostMatrix matrix, int blocks, int scaleWords)
        : base(matrix.Name, matrix.Rows, matrix.Cols, matrix.ByteSize)
    {
        Host = host;
        Blocks = blocks;
        ScaleWords = scaleWords;
        long units = 2L * matrix.Rows * blocks;
        if (units > int.MaxValue || (long)matrix.Rows * scaleWords > int.MaxValue)
            throw new ArgumentException($"{matrix.Name}: {units} 16-byte units exceed the 32-bit indexing of the kernels");
        _quants = host.Accelerator.Allocate1D<U4>(Math.Max(1, units));
        _scales = host.Accelerator.Allocate1D<uint>(Math.Max(1, (long)matrix.Rows * scaleWords));
    }

    public AcceleratorHost Host { get; }
    public int Blocks { get; }
    public int ScaleWords { get; }
    public ArrayView<U4> Quants => _quants.View;
    public ArrayView<uint> Scales => _scales.View;

    /// <summary>Copies the Q8 parts row block by row block through bounded staging buffers.</summary>
    public static unsafe GpuQ8Matrix Upload(AcceleratorHost host, HostMatrix matrix)
    {
        if (matrix.Parts.Any(p => p.Dtype != WeightDtype.Q8))
            throw new ArgumentException($"{matrix.Name}: a Q8 matrix cannot mix Q8 rows with other dtypes");
        int cols = matrix.Cols, blocks = Q8Format.BlocksPerRow(cols), words = (blocks + 1) / 2;
        var device = new GpuQ8Matrix(host, matrix, blocks, words);
        try
        {
            const int StagingRows = 4096;
            var quants = new U4[(long)Math.Min(StagingRows, Math.Max(1, matrix.Rows)) * 2 * blocks];
            var scales = new uint[(long)Math.Min(StagingRows, Math.Max(1, matrix.Rows)) * words];
            long row = 0;
            foreach (var part in matrix.Parts)
            {
                for (int first = 0; first < part.Rows; first += StagingRows)
                {
                    int rows = Math.Min(StagingRows, part.Rows - first);
                    Array.Clear(quants);
                    Array.Clear(scales);
                    fixed (U4* q = quants)
                    fixed (uint* s = scales)
                    {
                        for (int r = 0; r < rows; r++)
                        {
                            long source = (long)(first + r);
                            Buffer.MemoryCopy((sbyte*)part.Data + source * cols, (byte*)(q + (long)r * 2 * blocks), 32L * blocks, cols);
                            var rowScales = (ushort*)(s + (long)r * words);
                            Buffer.MemoryCopy(part.Scales + source * blocks, rowScales, 4L * words, 2L * blocks);
                        }
                    }
                    HostTransfer.Upload(host.Stream, device.Quants.SubView(row * 2 * blocks, (long)rows * 2 * blocks), quants.AsSpan(0, rows * 2 * blocks));
                    HostTransfer.Upload(host.Stream, device.Scales.SubView(row * words, (long)rows * words), scales.AsSpan(0, rows * words));
                    host.Stream.Synchronize();
                    row += rows;
                }
            }
            return device;
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    public override void Dispose()
    {
        _quants.Dispose();
        _scales.Dispose();
    }
}
