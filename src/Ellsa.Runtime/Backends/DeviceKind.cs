namespace Ellsa.Runtime.Backends;

/// <summary>What <c>--device</c> asks for.</summary>
public enum DeviceKind
{
    /// <summary>CUDA when a device is present, otherwise the CPU.</summary>
    Auto,
    Cpu,
    Cuda,
}

public static class DeviceKinds
{
    public static readonly string[] Names = ["auto", "cpu", "cuda"];

    public static DeviceKind Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => DeviceKind.Auto,
        "cpu" => DeviceKind.Cpu,
        "cuda" => DeviceKind.Cuda,
        _ => throw new ArgumentException($"--device {text}: expected one of {string.Join(", ", Names)}"),
    };
}
