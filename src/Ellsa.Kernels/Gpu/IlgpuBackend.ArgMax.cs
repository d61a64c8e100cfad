using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Gpu.Memory;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu;

/// <summary>The masked argmax: reduced on the device, 4 bytes back to the host.</summary>
public sealed partial class IlgpuBackend
{
    public int ArgMax(TensorSlice row, ReadOnlySpan<IdRange> allowed)
    {
        var tensor = Tensor(row);
        BackendChecks.ArgMax(row, allowed);
        Span<IdRanges> launches = stackalloc IdRanges[(allowed.Length + 3) / 4 + 1];
        int launchCount = 0;
        var current = new IdRanges();
        foreach (var range in allowed)
        {
            int first = Math.Max(0, range.First);
            int last = Math.Min(row.Cols - 1, range.Last);
            if (first > last)
                continue;
            Set(ref current, current.Count, first, last);
            current.Count++;
            if (current.Count == 4)
            {
                launches[launchCount++] = current;
                current = new IdRanges();
            }
        }
        if (current.Count > 0)
            launches[launchCount++] = current;

        lock (_host.Gate)
        {
            Flush();
            var values = _workspace.Floats("argmax.values", ArgMaxKernels.MaxPartials * launchCount);
            var ids = _workspace.Ints("argmax.ids", ArgMaxKernels.MaxPartials * launchCount);
            var result = _workspace.Ints("argmax.result", 1);
            // Flushed above, before the workspace is sized.
            return Guard("ArgMax", flush: false, (tensor, offset: tensor.Offset(row), values, ids, result, cols: row.Cols, allowed: allowed.Length),
                launches[..launchCount], static (b, s, batches) =>
                {
                    int partials = 0;
                    foreach (var ranges in batches)
                    {
                        int groups = b.Groups(Math.Clamp((ranges.Total + 4 * b.Threads(ArgMaxKernels.Threads) - 1) / (4 * b.Threads(ArgMaxKernels.Threads)), 1, ArgMaxKernels.MaxPartials));
                        b._kernels.ArgMaxPartial.Value(b._host.Stream, new KernelConfig(groups, b.Threads(ArgMaxKernels.Threads)), s.tensor.View, s.offset, ranges, s.values, s.ids, partials, b.Exchange);
                        partials += groups;
                    }
                    b._kernels.ArgMaxFinal.Value(b._host.Stream, new KernelConfig(1, b.Threads(ArgMaxKernels.Threads)), s.values, s.ids, partials, s.result, b.Exchange);
                    // On the stack: the 4 bytes come back without an allocation and into memory the GC never moves.
                    Span<int> chosen = stackalloc int[1];
                    HostTransfer.Download(b._host.Stream, s.result, chosen);
                    return chosen[0];
                },
                static s => $"a row of {s.cols} logits, {s.allowed} allowed ranges (a failure here may come from an earlier queued operation; ELLSA_GPU_SYNC=1 pins it down)");
        }
    }

    private static void Set(ref IdRanges ranges, int index, int first, int last)
    {
        switch (index)
        {
            case 0: ranges.First0 = first; ranges.Last0 = last; break;
            case 1: ranges.First1 = first; ranges.Last1 = last; break;
            case 2: ranges.First2 = first; ranges.Last2 = last; break;
            default: ranges.First3 = first; ranges.Last3 = last; break;
        }
    }
}
