using Ellsa.Kernels.Cpu;

namespace Ellsa.Tests.Support;

/// <summary>One CPU backend for the whole run: its worker threads are created once.</summary>
public static class SharedBackends
{
    private static readonly Lazy<CpuBackend> CpuInstance = new(() => new CpuBackend(threads: 2));

    public static CpuBackend Cpu => CpuInstance.Value;
}
