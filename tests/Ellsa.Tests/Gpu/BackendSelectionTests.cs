using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Gpu;
using Ellsa.Runtime.Backends;
using Xunit;

namespace Ellsa.Tests.Gpu;

/// <summary><c>--device</c>: auto, cuda and ilgpu-cpu create the right backend and say why.</summary>
[Collection(GpuTestCollection.Name)]
public sealed class BackendSelectionTests
{
    [Fact]
    public void IlgpuCpuIsADeviceKind()
    {
        Assert.Equal(DeviceKind.IlgpuCpu, DeviceKinds.Parse("ilgpu-cpu"));
        Assert.Contains("ilgpu-cpu", DeviceKinds.Names);
        using var backend = BackendFactory.Create(DeviceKind.IlgpuCpu, 0, out string choice);
        Assert.IsType<IlgpuBackend>(backend);
        Assert.Equal("ilgpu-cpu", backend.Name);
        Assert.False(backend.UsesHostWeightsInPlace);
        Assert.StartsWith("ilgpu-cpu", choice);
    }

    [Fact]
    public void AutoTakesCudaWhenPresentAndSaysWhyNotOtherwise()
    {
        using var backend = BackendFactory.Create(DeviceKind.Auto, 1, out string choice);
        if (CudaAvailability.SkipReason is null)
        {
            Assert.IsType<IlgpuBackend>(backend);
            Assert.StartsWith("cuda", choice);
        }
        else
        {
            Assert.IsType<CpuBackend>(backend);
            Assert.Contains("auto found no CUDA device", choice);
        }
    }

    [Fact]
    public void CudaWithoutADeviceIsAClearError()
    {
        if (CudaAvailability.SkipReason is null)
        {
            using var backend = BackendFactory.Create(DeviceKind.Cuda, 0, out _);
            Assert.Equal("cuda", backend.Name);
            return;
        }
        var error = Assert.Throws<BackendUnavailableException>(() => BackendFactory.Create(DeviceKind.Cuda, 0, out _));
        Assert.StartsWith("--device cuda: no CUDA device: ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void DeviceFailuresNameTheOperationAndSizesOnOneLine()
    {
        var inner = new InvalidOperationException("CUDA_ERROR_OUT_OF_MEMORY\nout of memory", new Exception("cuMemAlloc failed"));
        var error = new GpuBackendException("AllocateTensor", "2048×14336 fp32, 117.4 MB", "cuda", inner);
        Assert.Equal("AllocateTensor (2048×14336 fp32, 117.4 MB) failed on cuda: CUDA_ERROR_OUT_OF_MEMORY out of memory <- cuMemAlloc failed", error.Message);
    }
}
