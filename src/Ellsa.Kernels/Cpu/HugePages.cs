using System.Runtime.InteropServices;

namespace Ellsa.Kernels.Cpu;

/// <summary>
/// Asks Linux to back large buffers with 2 MiB pages. Linux's usual transparent-huge-page setting
/// ("madvise") gives a process huge pages only where it asks, and .NET's allocator never asks, so
/// a decode step streamed its weights through 4 KiB pages: one TLB walk per 4 KiB, and hardware
/// prefetchers that stop at every 4 KiB boundary. On the 2-core Zen 5 bf16 decode steps took
/// 0.961–0.972 of their time on 4 KiB pages (perf/RESULTS.md, "huge pages"). .NET has no API for
/// this; the one libc call is declared here.
/// </summary>
internal static partial class HugePages
{
    /// <summary>The huge page size, and the smallest buffer worth aligning to it.</summary>
    public const long Bytes = 2 << 20;

    private const int MadviseHugePage = 14; // MADV_HUGEPAGE in Linux's uapi/asm-generic/mman-common.h

    /// <summary>Whether new large buffers are advised (perf tools switch it off to measure the difference).</summary>
    public static bool Enabled { get; set; } = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>Whether advised buffers get huge pages here: Linux, with transparent huge pages set to "always" or "madvise".</summary>
    public static bool Offered => Enabled && s_offered.Value;

    private static readonly Lazy<bool> s_offered = new(() =>
    {
        const string setting = "/sys/kernel/mm/transparent_hugepage/enabled";
        try
        {
            return File.Exists(setting) && File.ReadAllText(setting) is var text && (text.Contains("[always]") || text.Contains("[madvise]"));
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    });

    /// <summary>The alignment a buffer of <paramref name="bytes"/> is allocated with: a huge page's when it will be advised.</summary>
    public static nuint Alignment(nuint bytes, nuint alignment) =>
        (long)bytes >= Bytes && Offered ? (nuint)Bytes : alignment;

    /// <summary>
    /// Advises the whole huge pages of a buffer allocated with <see cref="Alignment"/>, before its
    /// pages are first touched (pages already mapped stay small). Only advice: where the kernel
    /// refuses or has none to give, the buffer works as before, so a failure is ignored.
    /// </summary>
    public static unsafe void Advise(void* buffer, nuint bytes)
    {
        if ((long)bytes < Bytes || !Offered || (nuint)buffer % (nuint)Bytes != 0)
            return;
        nuint whole = bytes / (nuint)Bytes * (nuint)Bytes;
        try
        {
            _ = Madvise((nint)buffer, whole, MadviseHugePage);
        }
        catch (EntryPointNotFoundException)
        {
            Enabled = false;
        }
        catch (DllNotFoundException)
        {
            Enabled = false;
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
