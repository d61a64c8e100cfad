using Ellsa.Kernels.Cpu;

namespace Ellsa.Tests.Kernels;

/// <summary>A copy of weights is made only where it leaves room: a tenth of what is available, and at least 512 MiB.</summary>
public sealed class HostMemoryTests
{
    [Theory]
    [InlineData(1L << 30, 2L << 30, true)]      // 1 GiB beside 2 GiB available: 512 MiB stay free
    [InlineData(1600L << 20, 2L << 30, false)]  // 1.6 GiB would leave under 512 MiB
    [InlineData(17L << 30, 20L << 30, true)]    // a tenth (2 GiB) stays free
    [InlineData(19L << 30, 20L << 30, false)]
    [InlineData(1, 0, false)]
    public void CopiesOfWeightsMustLeaveRoom(long bytes, long available, bool fits) =>
        Assert.Equal(fits, HostMemory.Fits(bytes, available));

    [Fact]
    public void AvailableMemoryIsReadOnLinux()
    {
        long? available = HostMemory.Available();
        if (!OperatingSystem.IsLinux())
            return;
        Assert.NotNull(available);
        Assert.InRange(available!.Value, 1L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes + (1L << 30));
    }
}
