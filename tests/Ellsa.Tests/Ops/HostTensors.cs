using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;

namespace Ellsa.Tests.Ops;

/// <summary>Host values to and from [1, n] CPU tensors, for the op families' reference tests.</summary>
internal static class HostTensors
{
    public static DeviceTensor Upload(CpuBackend cpu, float[] values)
    {
        var tensor = cpu.AllocateTensor(1, values.Length);
        cpu.Upload(values, tensor.All);
        return tensor;
    }

    public static float[] Download(CpuBackend cpu, DeviceTensor tensor)
    {
        var values = new float[tensor.Rows * tensor.Cols];
        cpu.Download(tensor.All, values);
        return values;
    }

    public static float[] Poisoned(int length)
    {
        var values = new float[length];
        Array.Fill(values, float.NaN);
        return values;
    }
}
