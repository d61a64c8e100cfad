using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>
/// Kernels for benchmarks and checks: random weights generated where they live (uploading 33 GB
/// of benchmark weights is not an option) and a streaming copy that measures the bandwidth
/// floor in the same run as the figures compared with it.
/// </summary>
public static class UtilityKernels
{
    public const int Threads = 256;

    /// <summary>A 32-bit hash (lowbias32) of index and seed: reproducible, no state, uniform enough for weights.</summary>
    public static uint Hash(uint index, uint seed)
    {
        uint h = index * 0x9E3779B9u ^ seed;
        h ^= h >> 16;
        h *= 0x7FEB352Du;
        h ^= h >> 15;
        h *= 0x846CA68Bu;
        h ^= h >> 16;
        return h;
    }

    /// <summary>Uniform in [−1, 1).</summary>
    public static float Uniform(uint index, uint seed) => (Hash(index, seed) >> 8) * (2f / 16777216f) - 1f;

    /// <summary>Fills 16-byte units with bf16 values uniform in [center − scale, center + scale).</summary>
    [GpuKernel]
    public static void FillBf16(ArrayView<U4> data, int units, uint seed, float center, float scale)
    {
        for (int u = Grid.GlobalIndex.X; u < units; u += Grid.DimX * Group.DimX)
        {
            uint i = (uint)u * 8u;
            U4 v;
            v.X = DeviceMath.PackBf16(center + scale * Uniform(i, seed), center + scale * Uniform(i + 1, seed));
            v.Y = DeviceMath.PackBf16(center + scale * Uniform(i + 2, seed), center + scale * Uniform(i + 3, seed));
            v.Z = DeviceMath.PackBf16(center + scale * Uniform(i + 4, seed), center + scale * Uniform(i + 5, seed));
            v.W = DeviceMath.PackBf16(center + scale * Uniform(i + 6, seed), center + scale * Uniform(i + 7, seed));
            data[u] = v;
        }
    }

    /// <summary>Fills fp32 values uniform in [center − scale, center + scale).</summary>
    [GpuKernel]
    public static void FillF32(ArrayView<float> data, int length, uint seed, float center, float scale)
    {
        for (int i = Grid.GlobalIndex.X; i < length; i += Grid.DimX * Group.DimX)
            data[i] = center + scale * Uniform((uint)i, seed);
    }

    /// <summary>Grid-stride copy of 16-byte units, four loads in flight per thread.</summary>
    [GpuKernel]
    public static void Copy(ArrayView<U4> source, ArrayView<U4> destination, long units)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        long i = Grid.GlobalIndex.X;
        for (; i + 3 * stride < units; i += 4 * stride)
        {
            U4 a = source[i];
            U4 b = source[i + stride];
            U4 c = source[i + 2 * stride];
            U4 d = source[i + 3 * stride];
            destination[i] = a;
            destination[i + stride] = b;
            destination[i + 2 * stride] = c;
            destination[i + 3 * stride] = d;
        }
        for (; i < units; i += stride)
            destination[i] = source[i];
    }
}
