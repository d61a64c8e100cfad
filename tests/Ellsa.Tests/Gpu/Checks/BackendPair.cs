using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;

namespace Ellsa.Tests.Gpu.Checks;

/// <summary>
/// The backend under test beside the CPU reference: every object is created on both with the
/// same contents, the GPU's outputs are poisoned with NaN before the operation, and results are
/// compared by relative L2 error with every element required to be written (no NaN left).
/// </summary>
public sealed class BackendPair : IDisposable
{
    private readonly List<IDisposable> _owned = new();

    public BackendPair(IComputeBackend gpu, RandomData data)
    {
        Gpu = gpu;
        Cpu = new CpuBackend(threads: 1);
        Data = data;
    }

    public IComputeBackend Gpu { get; }
    public CpuBackend Cpu { get; }
    public RandomData Data { get; }

    public (DeviceTensor Gpu, DeviceTensor Cpu) Tensor(int rows, int cols, float[]? values = null)
    {
        var g = Own(Gpu.AllocateTensor(rows, cols));
        var c = Own(Cpu.AllocateTensor(rows, cols));
        values ??= Data.Values(rows * cols);
        Gpu.Upload(values, g.All);
        Cpu.Upload(values, c.All);
        return (g, c);
    }

    public (DeviceMatrix Gpu, DeviceMatrix Cpu) Matrix(HostMatrix host) => (Own(Gpu.UploadMatrix(host)), Own(Cpu.UploadMatrix(host)));

    public (DeviceVector Gpu, DeviceVector Cpu) Vector(float[] values) => (Own(Gpu.UploadVector(values)), Own(Cpu.UploadVector(values)));

    public (DeviceIndices Gpu, DeviceIndices Cpu) Indices(int[] values)
    {
        var g = Own(Gpu.AllocateIndices(values.Length));
        var c = Own(Cpu.AllocateIndices(values.Length));
        Gpu.Upload(values, g, 0);
        Cpu.Upload(values, c, 0);
        return (g, c);
    }

    public (DeviceKvCache Gpu, DeviceKvCache Cpu) Cache(int layers, int kvHeads, int headDim, int capacity) =>
        (Own(Gpu.AllocateKvCache(layers, kvHeads, headDim, capacity)), Own(Cpu.AllocateKvCache(layers, kvHeads, headDim, capacity)));

    public (DeviceRopeTable Gpu, DeviceRopeTable Cpu) RopeTable(double[] frequencies, int capacity) =>
        (Own(Gpu.CreateRopeTable(frequencies, capacity)), Own(Cpu.CreateRopeTable(frequencies, capacity)));

    /// <summary>Fills a GPU slice with NaN so an element the kernel forgets to write fails the comparison.</summary>
    public void Poison(TensorSlice gpu)
    {
        var nan = new float[gpu.Rows * gpu.Cols];
        Array.Fill(nan, float.NaN);
        Gpu.Upload(nan, gpu);
    }

    public float[] Read(IComputeBackend backend, TensorSlice slice)
    {
        var values = new float[slice.Rows * slice.Cols];
        backend.Download(slice, values);
        return values;
    }

    /// <summary>Throws unless the GPU slice equals the CPU slice within <paramref name="tolerance"/> relative L2 and holds no NaN.</summary>
    public void Compare(string what, TensorSlice gpu, TensorSlice cpu, double tolerance)
    {
        var g = Read(Gpu, gpu);
        var c = Read(Cpu, cpu);
        Compare(what, g, c, tolerance);
    }

    public void Compare(string what, float[] gpu, float[] cpu, double tolerance)
    {
        double diff = 0, norm = 0;
        int firstBad = -1;
        for (int i = 0; i < cpu.Length; i++)
        {
            if (!float.IsFinite(gpu[i]) && firstBad < 0)
                firstBad = i;
            double d = gpu[i] - (double)cpu[i];
            diff += d * d;
            norm += (double)cpu[i] * cpu[i];
        }
        if (firstBad >= 0)
            throw new CheckFailedException($"{what}: element {firstBad} of {cpu.Length} is {gpu[firstBad]} (not written or not finite) (seed {Data.Seed})");
        double relative = Math.Sqrt(diff / Math.Max(norm, 1e-30));
        if (!(relative <= tolerance))
            throw new CheckFailedException($"{what}: relative L2 error {relative:E2} exceeds {tolerance:E0} (seed {Data.Seed})");
    }

    /// <summary>
    /// Compares two buffers of which an op wrote only some elements (both poisoned with NaN first):
    /// the written elements must be the same ones on both sides and agree within the tolerance.
    /// </summary>
    public void CompareWritten(string what, TensorSlice gpu, TensorSlice cpu, double tolerance)
    {
        var g = Read(Gpu, gpu);
        var c = Read(Cpu, cpu);
        for (int i = 0; i < c.Length; i++)
        {
            if (float.IsNaN(c[i]) != float.IsNaN(g[i]))
                throw new CheckFailedException($"{what}: element {i} was written by one backend only (gpu {g[i]}, cpu {c[i]}) (seed {Data.Seed})");
        }
        var written = Enumerable.Range(0, c.Length).Where(i => !float.IsNaN(c[i])).ToArray();
        if (written.Length == 0)
            throw new CheckFailedException($"{what}: nothing was written (seed {Data.Seed})");
        Compare(what, written.Select(i => g[i]).ToArray(), written.Select(i => c[i]).ToArray(), tolerance);
    }

    /// <summary>Disposes <paramref name="value"/> with the pair (objects a check uploads itself).</summary>
    public void Keep(IDisposable value) => _owned.Add(value);

    private T Own<T>(T value) where T : IDisposable
    {
        _owned.Add(value);
        return value;
    }

    public void Dispose()
    {
        Gpu.Synchronize();
        foreach (var item in _owned)
            item.Dispose();
        Cpu.Dispose();
    }
}
