using Ellsa.Kernels.Gpu.Platform;
using Xunit;

namespace Ellsa.Tests.Gpu;

/// <summary>Why CUDA tests cannot run here, or null when a CUDA device is present.</summary>
internal static class CudaAvailability
{
    private static readonly Lazy<string?> Reason = new(() =>
    {
        try
        {
            return IlgpuPlatform.CudaUnavailableReason() is { } reason ? $"no CUDA device: {reason}" : null;
        }
        catch (Exception e)
        {
            return $"no CUDA device: probing failed ({e.Message.ReplaceLineEndings(" ")})";
        }
    });

    public static string? SkipReason => Reason.Value;
}

/// <summary>A fact that runs on a CUDA device and reports itself skipped, with the reason, where there is none.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (CudaAvailability.SkipReason is { } reason)
            Skip = reason;
    }
}

/// <summary>A theory that runs on a CUDA device and reports itself skipped, with the reason, where there is none.</summary>
public sealed class CudaTheoryAttribute : TheoryAttribute
{
    public CudaTheoryAttribute()
    {
        if (CudaAvailability.SkipReason is { } reason)
            Skip = reason;
    }
}
