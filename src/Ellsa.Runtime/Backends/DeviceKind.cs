namespace Ellsa.Runtime.Backends;

/// <summary>What <c>--device</c> asks for.</summary>
public enum DeviceKind
{
    /// <summary>CUDA when a device is present, otherwise the CPU.</summary>
    Auto,
    Cpu,
    Cuda,
    /// <summary>The CUDA kernels on ILGPU's CPU simulator: slow, for checking kernels without a GPU.</summary>
    IlgpuCpu,
}

public static class DeviceKinds
{
    public static readonly string[] Names = ["auto", "cpu", "cuda", "ilgpu-cpu"];

    public static DeviceKind Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => DeviceKind.Auto,
        "cpu" => DeviceKind.Cpu,
        "cuda" => DeviceKind.Cuda,
        "ilgpu-cpu" => DeviceKind.IlgpuCpu,
        _ => throw new ArgumentException($"--device {text}: expected one of {string.Join(", ", Names)}"),
    };
}
