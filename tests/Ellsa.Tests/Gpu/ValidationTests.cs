using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu;
using Ellsa.Tests.Gpu.Checks;
using Xunit;

namespace Ellsa.Tests.Gpu;

/// <summary>
/// Ids and positions are checked on the host (the backend keeps the uploaded values), so a bad
/// one is an exception as on the CPU backend, not a NaN from a kernel.
/// </summary>
[Collection(GpuTestCollection.Name)]
public sealed class ValidationTests
{
    [Fact]
    public void OutOfRangeIdsAndPositionsThrowLikeTheCpuBackend()
    {
        using var data = new RandomData(Seeds.For(nameof(OutOfRangeIdsAndPositionsThrowLikeTheCpuBackend)));
        using var backend = IlgpuBackend.CreateCpuSimulator();
        using var table = backend.UploadMatrix(data.Matrix("embed", 10, 8));
        using var ids = backend.AllocateIndices(2);
        using var x = backend.AllocateTensor(2, 8);
        backend.Upload([3, 10], ids, 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.Embed(table, ids, 0, x.All));

        using var cache = backend.AllocateKvCache(1, 1, 8, 4);
        using var positions = backend.AllocateIndices(2);
        backend.Upload([1, 4], positions, 0);
        var error = Assert.Throws<InvalidOperationException>(() => backend.WriteKv(cache, 0, x.All, x.All, positions, 0));
        Assert.Contains("position 4", error.Message);
        Assert.Throws<InvalidOperationException>(() => backend.Attention(cache, 0, x.RowRange(0, 2).Columns(0, 8), positions, 0, x.All));
    }

    [Fact]
    public void ObjectsOfAnotherBackendAreRefused()
    {
        using var data = new RandomData(1);
        using var cpu = new Ellsa.Kernels.Cpu.CpuBackend(1);
        using var gpu = IlgpuBackend.CreateCpuSimulator();
        using var matrix = cpu.UploadMatrix(data.Matrix("w", 4, 4));
        using var x = gpu.AllocateTensor(1, 4);
        using var y = gpu.AllocateTensor(1, 4);
        var error = Assert.Throws<ArgumentException>(() => gpu.MatMul(matrix, x.All, y.All, null, false));
        Assert.Contains("not created by this ilgpu-cpu backend", error.Message);
    }
}
