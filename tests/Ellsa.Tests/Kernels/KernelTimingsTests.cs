using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Kernels;

/// <summary>The decode benchmark's per-kernel breakdown: charged by kind while attached, nothing once detached.</summary>
public sealed class KernelTimingsTests
{
    [Fact]
    public void ChargesEachKernelToItsKindOnlyWhileAttached()
    {
        using var backend = new CpuBackend(threads: 2);
        using var factory = new RandomMatrixFactory(new Random());
        // 2000 f32 rows of 64 make four 128 KB row chunks: every product is a parallel dispatch.
        var matrix = new HostMatrix("speech.layers.3.qkv_proj", [factory.Part(WeightDtype.F32, 2000, 64, out _)]);
        using var device = backend.UploadMatrix(matrix);
        using var input = backend.AllocateTensor(1, 64);
        using var output = backend.AllocateTensor(1, 2000);
        using var norm = backend.UploadVector(factory.Vector(64));
        backend.Upload(factory.Vector(64), input.RowRange(0, 1));

        var timings = new KernelTimings();
        backend.Timings = timings;
        for (int i = 0; i < 3; i++)
            backend.MatMul(device, input.RowRange(0, 1), output.RowRange(0, 1), null, accumulate: false);
        backend.RmsNorm(input.RowRange(0, 1), norm, 1e-5f, input.RowRange(0, 1));
        backend.Timings = null;
        backend.MatMul(device, input.RowRange(0, 1), output.RowRange(0, 1), null, accumulate: false);

        var entries = timings.Entries.ToDictionary(e => e.Name);
        Assert.Equal(["matmul qkv_proj", "rms norm"], entries.Keys.Order());
        Assert.Equal(3, entries["matmul qkv_proj"].Calls);
        Assert.Equal(1, entries["rms norm"].Calls);
        Assert.True(entries["matmul qkv_proj"].Ticks > 0);
        Assert.True(timings.Dispatches >= 3, $"{timings.Dispatches} dispatches");
    }
}
