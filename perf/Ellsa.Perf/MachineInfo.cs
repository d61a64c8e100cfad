using System.Runtime.InteropServices;
using Ellsa.Kernels.Cpu;

namespace Ellsa.Perf;

public static class MachineInfo
{
    public static string Describe(CpuBackend backend)
    {
        string cpu = "unknown CPU";
        if (File.Exists("/proc/cpuinfo"))
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"));
            if (line is not null)
                cpu = line[(line.IndexOf(':') + 1)..].Trim();
        }
        return $"{cpu}, {Environment.ProcessorCount} logical cores, {backend.Description}, .NET {RuntimeInformation.FrameworkDescription.Replace(".NET ", "")}, {RuntimeInformation.OSDescription}";
    }
}
