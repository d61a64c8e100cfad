using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Gpu;
using Ellsa.Kernels.Gpu.Platform;

namespace Ellsa.Runtime.Backends;

/// <summary>A backend could not be created; the message says which and why.</summary>
public sealed class BackendUnavailableException(string message) : Exception(message);

/// <summary>Creates the backend <c>--device</c> names, and says why when it cannot.</summary>
public static class BackendFactory
{
    /// <param name="threads">CPU threads (0 = one per core).</param>
    /// <param name="choice">What was chosen and why, for the user.</param>
    public static IComputeBackend Create(DeviceKind kind, int threads, out string choice)
    {
        switch (kind)
        {
            case DeviceKind.Cpu:
                var cpu = new CpuBackend(threads);
                choice = $"cpu ({cpu.Description})";
                return cpu;
            case DeviceKind.Auto:
                string? missing = CudaMissingReason();
                if (missing is null)
                {
                    var gpu = CreateCuda();
                    choice = $"cuda ({gpu.Description}); auto found a CUDA device";
                    return gpu;
                }
                var fallback = new CpuBackend(threads);
                choice = $"cpu ({fallback.Description}); auto found no CUDA device: {missing}";
                return fallback;
            case DeviceKind.Cuda:
                if (CudaMissingReason() is { } reason)
                    throw new BackendUnavailableException($"--device cuda: no CUDA device: {reason}; use --device cpu or auto");
                var cuda = CreateCuda();
                choice = $"cuda ({cuda.Description})";
                return cuda;
            case DeviceKind.IlgpuCpu:
                var simulator = Wrap("ilgpu-cpu", () => IlgpuBackend.CreateCpuSimulator());
                choice = $"ilgpu-cpu ({simulator.Description}); the CUDA kernels on ILGPU's CPU simulator, for checking, not speed";
                return simulator;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    private static IlgpuBackend CreateCuda() => Wrap("cuda", () => IlgpuBackend.CreateCuda());

    /// <summary>Why there is no usable CUDA device (null when there is one); probing never throws.</summary>
    private static string? CudaMissingReason()
    {
        try
        {
            return IlgpuPlatform.CudaUnavailableReason();
        }
        catch (Exception e)
        {
            return $"probing the CUDA driver failed ({OneLine(e)})";
        }
    }

    private static IlgpuBackend Wrap(string device, Func<IlgpuBackend> create)
    {
        try
        {
            return create();
        }
        catch (Exception e)
        {
            throw new BackendUnavailableException($"--device {device}: the backend could not start: {OneLine(e)}");
        }
    }

    private static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ").Trim();
}
