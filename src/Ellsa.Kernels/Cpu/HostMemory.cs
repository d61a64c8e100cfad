namespace Ellsa.Kernels.Cpu;

/// <summary>How much memory the machine has to give, for decisions that would take a lot of it.</summary>
internal static class HostMemory
{
    /// <summary>
    /// Whether <paramref name="bytes"/> more of anonymous memory leave room beside what the machine
    /// has available (Linux's MemAvailable: free memory and reclaimable cache): a copy of weights
    /// that do not fit would fail or push the process into swap, where a file mapping only pages
    /// them in and out. A tenth of what is available, and at least 512 MiB, stays free for the
    /// activations, the KV caches and everything else.
    /// </summary>
    public static bool Fits(long bytes, long available) =>
        bytes <= available - Math.Max(512L << 20, available / 10);

    /// <summary>MemAvailable from /proc/meminfo in bytes, or null where there is none to read.</summary>
    public static long? Available()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                    continue;
                var fields = line["MemAvailable:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return fields.Length == 2 && fields[1] == "kB" && long.TryParse(fields[0], out long kb) ? kb * 1024 : null;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }
}
