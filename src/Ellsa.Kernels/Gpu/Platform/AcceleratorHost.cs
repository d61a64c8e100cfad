using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Ellsa.Kernels.Gpu.Kernels;

namespace Ellsa.Kernels.Gpu.Platform;

/// <summary>
/// One shared accelerator, its non-blocking stream, and its kernels (each compiled and loaded
/// on first use, then kept for the process). Operations on it are serialised through
/// <see cref="Gate"/>: ILGPU streams and the CPU simulator are not meant for concurrent launches.
/// </summary>
public sealed class AcceleratorHost
{
    public AcceleratorHost(string key, Accelerator accelerator)
    {
        Key = key;
        Accelerator = accelerator;
        IsCuda = accelerator.AcceleratorType == AcceleratorType.Cuda;
        // The default CUDA stream is the legacy NULL stream, which synchronises with every other
        // stream; a created stream is CU_STREAM_NON_BLOCKING (04-engine-notes.md §1.3).
        Stream = IsCuda ? accelerator.CreateStream() : accelerator.DefaultStream;
        Kernels = new KernelLibrary(this);
    }

    public string Key { get; }
    public Accelerator Accelerator { get; }
    public AcceleratorStream Stream { get; }
    public bool IsCuda { get; }
    public object Gate { get; } = new();
    internal KernelLibrary Kernels { get; }

    /// <summary>Multiprocessors to fill (the simulator reports its simulated count).</summary>
    public int Multiprocessors => Math.Max(1, Accelerator.NumMultiprocessors);

    public string Description => IsCuda
        ? $"CUDA {Accelerator.Name} ({((CudaAccelerator)Accelerator).Architecture}, PTX ISA {((CudaAccelerator)Accelerator).InstructionSet}, " +
          $"{Accelerator.NumMultiprocessors} SMs, {Accelerator.MemorySize / (1L << 30)} GiB)"
        : $"ILGPU CPU simulator ({Accelerator.WarpSize}-lane warps, {Accelerator.NumMultiprocessors} simulated multiprocessors)";
}
