using Ellsa.Kernels.Cpu;
using Xunit;

namespace Ellsa.Tests.Ops;

/// <summary>Theory rows that run each case of an op family on each ISA level whose CPU path differs.</summary>
internal static class IsaTheories
{
    public static TheoryData<string, CpuIsa> Each(IEnumerable<string> kinds, params CpuIsa[] isas)
    {
        var data = new TheoryData<string, CpuIsa>();
        foreach (string kind in kinds)
        {
            foreach (var isa in isas)
                data.Add(kind, isa);
        }
        return data;
    }
}
