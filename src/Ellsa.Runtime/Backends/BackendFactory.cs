using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;

namespace Ellsa.Runtime.Backends;

/// <summary>A backend could not be created; the message says which and why.</summary>
public sealed class BackendUnavailableException(string message) : Exception(message);

/// <summary>Creates the backend <c>--device</c> names, and says why when it cannot.</summary>
public static class BackendFactory
{
    /// <param name="threads">CPU threads (0 = one per core).</param>
    /// <param name="choice">What was chosen and why, for the user (auto falls back silently otherwise).</param>
    public static IComputeBackend Create(DeviceKind kind, int threads, out string choice)
    {
        switch (kind)
        {
            case DeviceKind.Cpu:
                var cpu = new CpuBackend(threads);
                choice = $"cpu ({cpu.Description})";
                return cpu;
            case DeviceKind.Auto:
                var fallback = new CpuBackend(threads);
                choice = $"cpu ({fallback.Description}); auto found no CUDA backend in this build";
                return fallback;
            case DeviceKind.Cuda:
                throw new BackendUnavailableException("--device cuda: this build has no CUDA backend yet; use --device cpu or auto");
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }
}
