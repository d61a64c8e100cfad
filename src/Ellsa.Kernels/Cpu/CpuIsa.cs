using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ellsa.Kernels.Cpu;

/// <summary>The SIMD level a CPU kernel runs at. Chosen at run time, never at build time.</summary>
public enum CpuIsa
{
    Scalar = 0,
    Avx2 = 1,
    Avx512 = 2,
}

public static class CpuIsaDetector
{
    /// <summary>Environment variable that caps the ISA (scalar, avx2, avx512), for testing every path on one machine.</summary>
    public const string OverrideVariable = "ELLSA_CPU_ISA";

    /// <summary>The best ISA this process can use.</summary>
    public static CpuIsa Best
    {
        get
        {
            if (Avx512F.IsSupported && Avx512BW.IsSupported && Vector512.IsHardwareAccelerated)
                return CpuIsa.Avx512;
            if (Avx2.IsSupported && Fma.IsSupported)
                return CpuIsa.Avx2;
            return CpuIsa.Scalar;
        }
    }

    /// <summary>The best ISA, lowered by <see cref="OverrideVariable"/> when it is set.</summary>
    public static CpuIsa Default
    {
        get
        {
            var requested = Environment.GetEnvironmentVariable(OverrideVariable);
            if (string.IsNullOrWhiteSpace(requested))
                return Best;
            if (!TryParse(requested, out var isa))
                throw new ArgumentException($"{OverrideVariable}={requested}: expected scalar, avx2 or avx512");
            return Clamp(isa);
        }
    }

    /// <summary>Never hand out an ISA the machine lacks: a request above <see cref="Best"/> is lowered to it.</summary>
    public static CpuIsa Clamp(CpuIsa requested) => requested > Best ? Best : requested;

    public static bool TryParse(string text, out CpuIsa isa)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "scalar": isa = CpuIsa.Scalar; return true;
            case "avx2": isa = CpuIsa.Avx2; return true;
            case "avx512": isa = CpuIsa.Avx512; return true;
            default: isa = CpuIsa.Scalar; return false;
        }
    }

    public static string Name(CpuIsa isa) => isa switch
    {
        CpuIsa.Avx512 => "AVX-512",
        CpuIsa.Avx2 => "AVX2",
        _ => "scalar",
    };
}
