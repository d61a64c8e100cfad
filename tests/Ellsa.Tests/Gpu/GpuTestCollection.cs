using Xunit;

namespace Ellsa.Tests.Gpu;

/// <summary>
/// The GPU tests share one process-wide accelerator per device; running them one at a time keeps
/// the CPU simulator's threads (one per simulated lane) from competing across test classes.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GpuTestCollection
{
    public const string Name = "GPU backend";
}

/// <summary>A fresh seed per run and check, reported in every failure message.</summary>
internal static class Seeds
{
    public static int For(string name) => HashCode.Combine(Environment.TickCount64, name, Environment.ProcessId);
}
