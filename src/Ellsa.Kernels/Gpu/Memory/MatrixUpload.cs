using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Gpu.Platform;

namespace Ellsa.Kernels.Gpu.Memory;

/// <summary>
/// Copies a host matrix into the device layout. Adjacent parts of one dtype become one run; a
/// matrix with more dtype runs than the kernels take is widened to fp32 (bf16 → fp32 is exact).
/// Rows whose byte length is already whole 16-byte units are copied straight from the mapped
/// file; others are padded with zeros through a bounded staging buffer.
/// </summary>
internal static unsafe class MatrixUpload
{
    private const long StagingBytes = 64L << 20;

    public static GpuMatrix Upload(AcceleratorHost host, HostMatrix matrix)
    {
        var parts = matrix.Parts.Where(p => p.Rows > 0).ToArray();
        if (parts.Any(p => p.Dtype == WeightDtype.Q8))
            throw new NotSupportedException($"{matrix.Name}: q8 weights have no GPU upload yet; use --weights bf16 on this device");
        if (parts.Any(p => p.Dtype == WeightDtype.PackedBf16))
            throw new NotSupportedException($"{matrix.Name}: packed bf16 is the CPU backend's format; use --weights bf16 on this device");
        bool widen = CountRuns(parts) > GpuMatrix.MaxRuns;
        int groups = (matrix.Cols + 7) / 8;
        var runs = new List<MatrixRun>();
        int row = 0;
        long unit = 0;
        foreach (var part in parts)
        {
            bool f32 = widen || part.Dtype == WeightDtype.F32;
            if (runs.Count > 0 && runs[^1].F32 == f32)
                runs[^1] = runs[^1] with { Rows = runs[^1].Rows + part.Rows };
            else
                runs.Add(new MatrixRun(row, part.Rows, f32, checked((int)unit)));
            row += part.Rows;
            unit += (long)part.Rows * (f32 ? 2 * groups : groups);
        }
        if (runs.Count == 0)
            runs.Add(new MatrixRun(0, 0, false, 0));

        var device = new GpuMatrix(host, matrix.Name, matrix.Rows, matrix.Cols, matrix.ByteSize, runs);
        try
        {
            long target = 0;
            foreach (var part in parts)
            {
                bool f32 = widen || part.Dtype == WeightDtype.F32;
                CopyPart(host, device, part, f32, target);
                target += (long)part.Rows * device.UnitsPerRow(f32);
            }
            host.Stream.Synchronize();
            return device;
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    private static int CountRuns(MatrixPart[] parts)
    {
        int runs = 0;
        for (int i = 0; i < parts.Length; i++)
            runs += i == 0 || parts[i].Dtype != parts[i - 1].Dtype ? 1 : 0;
        return runs;
    }

    private static void CopyPart(AcceleratorHost host, GpuMatrix device, MatrixPart part, bool f32, long targetUnit)
    {
        int cols = part.Cols;
        int unitsPerRow = device.UnitsPerRow(f32);
        long sourceRowBytes = (long)cols * part.ElementBytes;
        bool direct = !(f32 && part.Dtype == WeightDtype.BF16) && sourceRowBytes == unitsPerRow * 16L;
        if (direct)
        {
            // Chunked so that one copy never asks the driver to stage gigabytes of pageable memory at once.
            long rowsPerCopy = Math.Max(1, StagingBytes / Math.Max(1, sourceRowBytes));
            for (long r = 0; r < part.Rows; r += rowsPerCopy)
            {
                long rows = Math.Min(rowsPerCopy, part.Rows - r);
                var source = new ReadOnlySpan<U4>((byte*)part.Data + r * sourceRowBytes, checked((int)(rows * unitsPerRow)));
                HostTransfer.Upload(host.Stream, device.View.SubView(targetUnit + r * unitsPerRow, rows * unitsPerRow), source);
                host.Stream.Synchronize();
            }
            return;
        }

        long stagingRows = Math.Max(1, StagingBytes / (unitsPerRow * 16L));
        var staging = new U4[Math.Min(stagingRows, part.Rows) * unitsPerRow];
        for (long r = 0; r < part.Rows; r += stagingRows)
        {
            long rows = Math.Min(stagingRows, part.Rows - r);
            Array.Clear(staging);
            fixed (U4* stage = staging)
            {
                for (long i = 0; i < rows; i++)
                {
                    byte* destination = (byte*)(stage + i * unitsPerRow);
                    byte* source = (byte*)part.Data + (r + i) * sourceRowBytes;
                    if (f32 && part.Dtype == WeightDtype.BF16)
                    {
                        ushort* bf16 = (ushort*)source;
                        uint* words = (uint*)destination;
                        for (int c = 0; c < cols; c++)
                            words[c] = (uint)bf16[c] << 16;
                    }
                    else
                    {
                        Buffer.MemoryCopy(source, destination, unitsPerRow * 16L, sourceRowBytes);
                    }
                }
            }
            HostTransfer.Upload(host.Stream, device.View.SubView(targetUnit + r * unitsPerRow, rows * unitsPerRow),
                staging.AsSpan(0, checked((int)(rows * unitsPerRow))));
            host.Stream.Synchronize();
        }
    }
}
