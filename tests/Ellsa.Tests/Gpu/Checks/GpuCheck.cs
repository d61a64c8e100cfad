using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu;

namespace Ellsa.Tests.Gpu.Checks;

/// <summary>How a check makes the backend under test (it may need options of its own, e.g. tensor cores).</summary>
public delegate IComputeBackend BackendFactory(IlgpuOptions options);

/// <summary>One named check of the GPU backend against the CPU backend, on fresh random shapes from a seed.</summary>
public sealed record GpuCheck(string Name, Action<BackendFactory, int> Run);
