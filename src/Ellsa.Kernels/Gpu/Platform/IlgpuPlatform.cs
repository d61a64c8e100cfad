using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Ellsa.Kernels.Gpu.Platform;

/// <summary>
/// The process-wide ILGPU context and the accelerators made from it. ILGPU compiles a kernel
/// per context and loads it per accelerator (100 ms to seconds each, issues #190/#192), so the
/// process keeps one context and one accelerator per device for its whole life and every
/// backend instance shares them; disposing a backend never disposes an accelerator.
/// </summary>
public static class IlgpuPlatform
{
    /// <summary>
    /// The simulated device used for <c>ilgpu-cpu</c>: 32-lane warps like NVIDIA hardware (the
    /// kernels' warp reductions and fragment layouts assume 32), up to 256 threads per group, and
    /// one simulated multiprocessor per core (each runs one group at a time on its own threads).
    /// </summary>
    public static CPUDevice SimulatorDevice { get; } =
        new(numThreadsPerWarp: 32, numWarpsPerMultiprocessor: 8, numMultiprocessors: Math.Clamp(Environment.ProcessorCount, 1, 4));

    private static readonly Lazy<Context> SharedContext = new(CreateContext, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly object HostsGate = new();
    private static readonly Dictionary<string, AcceleratorHost> Hosts = new();

    public static Context Context => SharedContext.Value;

    /// <summary>CUDA devices ILGPU can compile for; empty when there is no driver or no device.</summary>
    public static IReadOnlyList<CudaDevice> CudaDevices
    {
        get
        {
            var devices = new List<CudaDevice>();
            foreach (var device in Context.GetCudaDevices())
                devices.Add(device);
            return devices;
        }
    }

    /// <summary>Why no CUDA device is available, in words for the user (null when one is).</summary>
    public static string? CudaUnavailableReason()
    {
        if (CudaDevices.Count > 0)
            return null;
        string library = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";
        if (!NativeLibrary.TryLoad(library, out var handle))
            return $"the CUDA driver library ({library}) is not installed or not on the library path";
        NativeLibrary.Free(handle);
        return "the CUDA driver is installed but reports no device ILGPU 1.5.3 can compile for";
    }

    /// <summary>The shared accelerator of CUDA device <paramref name="index"/>.</summary>
    public static AcceleratorHost Cuda(int index = 0)
    {
        var devices = CudaDevices;
        if (index < 0 || index >= devices.Count)
            throw new GpuBackendException(devices.Count == 0
                ? $"no CUDA device: {CudaUnavailableReason()}"
                : $"CUDA device {index} does not exist ({devices.Count} found)");
        return GetOrCreate($"cuda:{index}", () => devices[index].CreateAccelerator(Context));
    }

    /// <summary>The shared CPU-simulator accelerator (ILGPU's CPU accelerator with 32-lane warps).</summary>
    public static AcceleratorHost CpuSimulator() =>
        GetOrCreate("ilgpu-cpu", () => SimulatorDevice.CreateAccelerator(Context));

    private static AcceleratorHost GetOrCreate(string key, Func<ILGPU.Runtime.Accelerator> create)
    {
        lock (HostsGate)
        {
            if (!Hosts.TryGetValue(key, out var host))
            {
                host = new AcceleratorHost(key, create());
                Hosts[key] = host;
            }
            return host;
        }
    }

    /// <summary>
    /// O2 because its address-space inference turns the kernels' loads into <c>ld.global</c>
    /// (O1 leaves generic <c>ld</c>); the PTX test pins that down. Profiling enables the event
    /// timers the benchmarks use.
    /// </summary>
    private static Context CreateContext() =>
        Context.Create(builder => builder
            .Cuda()
            .CPU(SimulatorDevice)
            .Optimize(Optimization)
            .Profiling());

    /// <summary>The optimisation level of every compile (the runtime context and the offline PTX check).</summary>
    public const OptimizationLevel Optimization = OptimizationLevel.O2;
}
