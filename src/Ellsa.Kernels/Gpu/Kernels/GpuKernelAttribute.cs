namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>
/// Marks a kernel entry point so the offline PTX check compiles every one of them. A generic
/// kernel lists one attribute per instantiation the backend loads.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class GpuKernelAttribute : Attribute
{
    public GpuKernelAttribute(params Type[] typeArguments) => TypeArguments = typeArguments;

    public Type[] TypeArguments { get; }
}
