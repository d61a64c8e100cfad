using Ellsa.Kernels.Cpu;

namespace Ellsa.Tests.Kernels;

/// <summary>
/// Large native buffers are aligned to 2 MiB and advised onto huge pages: on Linux with
/// transparent huge pages available (the kernel's "enabled" setting is always or madvise) the
/// mapping that holds such a buffer must then be eligible for them. Small buffers are left alone.
/// </summary>
public sealed unsafe class HugePagesTests
{
    [Fact]
    public void LargeBuffersAreAlignedAndEligibleForHugePagesWhereLinuxOffersThem()
    {
        using var large = new NativeArray<float>(3 * HugePages.Bytes / sizeof(float) + 5);
        using var small = new NativeArray<float>(1000);
        Assert.Equal(0, (long)small.Pointer % 64);
        Assert.Equal(0, (long)large.Pointer % 64);
        large.Pointer[large.Length - 1] = 1; // the unadvised tail is an ordinary, writable page
        if (!HugePages.Offered)
            return;

        Assert.Equal(0, (long)large.Pointer % HugePages.Bytes);
        Assert.Equal(1, ThpEligible((nint)large.Pointer));
    }

    /// <summary>The THPeligible field of the /proc/self/smaps mapping that contains <paramref name="address"/>.</summary>
    private static int ThpEligible(nint address)
    {
        bool inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            if (dash > 0 && space > dash && ulong.TryParse(line[..dash], System.Globalization.NumberStyles.HexNumber, null, out ulong start)
                && ulong.TryParse(line[(dash + 1)..space], System.Globalization.NumberStyles.HexNumber, null, out ulong end))
            {
                inside = (ulong)address >= start && (ulong)address < end;
                continue;
            }
            if (inside && line.StartsWith("THPeligible:", StringComparison.Ordinal))
                return int.Parse(line["THPeligible:".Length..].Trim());
        }
        throw new InvalidOperationException($"no mapping in /proc/self/smaps holds 0x{address:x}");
    }
}
