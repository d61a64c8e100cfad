using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Gpu;
using Ellsa.Kernels.Numerics;

namespace Ellsa.Perf.Gpu;

/// <summary>
/// Random q8 weights for <c>--weights q8</c>: int8 values uniform in [-127, 127] with every block's
/// scale a / 127, i.e. uniform ±a as the bf16 bench weights are, made on the host (in parallel) and
/// uploaded through the backend's q8 upload.
/// </summary>
public static class Q8RandomMatrix
{
    public static unsafe DeviceMatrix Create(IlgpuBackend backend, string name, int rows, int cols, uint seed, float scale)
    {
        int blocks = Q8Format.BlocksPerRow(cols);
        using var quants = new NativeArray<sbyte>((long)rows * cols, zero: false);
        using var scales = new NativeArray<ushort>((long)rows * blocks, zero: false);
        sbyte* q = quants.Pointer;
        ushort* s = scales.Pointer;
        ushort bits = Q8Format.HalfBits(scale / Q8Format.MaxQuant);
        Parallel.For(0, rows, row =>
        {
            ulong state = ((ulong)seed * 1_000_003UL + (ulong)row) * 0x9E3779B97F4A7C15UL | 1;
            sbyte* target = q + (long)row * cols;
            for (int i = 0; i < cols; i++)
            {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                target[i] = (sbyte)((int)(state >> 40) % 255 - 127);
            }
            new Span<ushort>(s + (long)row * blocks, blocks).Fill(bits);
        });
        return backend.UploadMatrix(new HostMatrix(name, [new MatrixPart(q, s, rows, cols)]));
    }
}
