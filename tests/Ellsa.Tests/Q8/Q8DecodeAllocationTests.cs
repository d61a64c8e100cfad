using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Decoding;
using Ellsa.Runtime.Moe;
using Ellsa.Tests.Kernels;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Q8;

public sealed class Q8DecodeAllocationTests
{
    /// <summary>
    /// With q8 weights, too, a warmed-up decode step allocates 0 bytes on the calling thread and on
    /// the backend's workers, at every ISA this machine has (each runs its own Q8 kernels: the
    /// activation quantiser's buffers and the per-worker scale scratch are reused).
    /// </summary>
    [Theory]
    [MemberData(nameof(CpuBackendTests.Isas), MemberType = typeof(CpuBackendTests))]
    public void Q8DecodeStepsAllocateNothingAfterWarmUp(CpuIsa isa)
    {
        using var backend = new CpuBackend(threads: 2, isa);
        using var model = SaMoeModel.Load(TestPaths.Tiny, backend, format: WeightFormat.Q8);
        Assert.IsType<CpuQ8Matrix>(model.Speech.Layers[0].Qkv);
        Assert.IsType<CpuQ8Matrix>(model.Vision.Head);
        var batch = SequenceFile.Read(Path.Combine(TestPaths.TinyGoldens, "speech_block.seq.json"), model.Config.Speech.HiddenSize);
        var tokens = model.Config.Settings.Tokens;
        using var state = model.CreateSequence(batch.Count + 400);
        state.Append(batch);
        Span<IdRange> actions = [new(tokens.ActionFirst, tokens.ActionLast), IdRange.Single(tokens.Eoa)];

        void Steps(int count, ref int token, Span<IdRange> allowed)
        {
            for (int i = 0; i < count; i++)
            {
                state.Step(token, Expert.Speech);
                token = state.ArgMax(Expert.Speech);
                state.Step(tokens.Boa, Expert.Vision);
                state.ArgMax(Expert.Vision, allowed);
            }
        }

        int token = state.ArgMax(Expert.Speech);
        Steps(100, ref token, actions);
        state.Truncate(batch.Count + 1);

        long thread = GC.GetAllocatedBytesForCurrentThread();
        long workers = backend.WorkerAllocatedBytes;
        Steps(100, ref token, actions);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - thread);
        Assert.Equal(0, backend.WorkerAllocatedBytes - workers);
    }
}
