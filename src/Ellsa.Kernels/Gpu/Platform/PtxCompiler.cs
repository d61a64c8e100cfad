using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Ellsa.Kernels.Gpu.Kernels;

namespace Ellsa.Kernels.Gpu.Platform;

/// <summary>One kernel compiled to PTX without a device.</summary>
public sealed record PtxKernel(string Name, string Assembly);

/// <summary>
/// Compiles every <see cref="GpuKernelAttribute"/> kernel to PTX with ILGPU's PTX backend for a
/// given architecture, without a GPU: the test that the inline PTX is well-formed enough for
/// ILGPU and contains the instructions the design relies on, and the PTX the GPU run script
/// feeds to ptxas for its register and spill report.
/// </summary>
public static class PtxCompiler
{
    /// <summary>The kernel entry points, generic ones closed over each listed instantiation.</summary>
    public static IReadOnlyList<MethodInfo> Kernels()
    {
        var methods = new List<MethodInfo>();
        foreach (var type in typeof(GpuKernelAttribute).Assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Static))
            {
                foreach (var attribute in method.GetCustomAttributes<GpuKernelAttribute>())
                    methods.Add(method.IsGenericMethodDefinition ? method.MakeGenericMethod(attribute.TypeArguments) : method);
            }
        }
        return methods;
    }

    public static string NameOf(MethodInfo method) =>
        method.DeclaringType!.Name + "." + method.Name +
        (method.IsGenericMethod ? "<" + string.Join(",", method.GetGenericArguments().Select(a => a.Name)) + ">" : "");

    public static IReadOnlyList<PtxKernel> CompileAll(CudaArchitecture architecture, CudaInstructionSet instructionSet)
    {
        using var context = Context.Create(builder => builder.Optimize(IlgpuPlatform.Optimization));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, instructionSet, null);
        var result = new List<PtxKernel>();
        foreach (var method in Kernels())
        {
            var entry = EntryPointDescription.FromExplicitlyGroupedKernel(method);
            var compiled = (PTXCompiledKernel)backend.Compile(entry, new KernelSpecialization());
            result.Add(new PtxKernel(NameOf(method), compiled.PTXAssembly));
        }
        return result;
    }

    /// <summary>Hopper (the H200) with the newest PTX ISA ILGPU 1.5.3 knows (8.8), as a CUDA 13 driver gets it.</summary>
    public static IReadOnlyList<PtxKernel> CompileForHopper() => CompileAll(CudaArchitecture.SM_90, CudaInstructionSet.ISA_88);
}
