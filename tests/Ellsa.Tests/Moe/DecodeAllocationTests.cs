using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Decoding;
using Ellsa.Runtime.Moe;
using Ellsa.Tests.Kernels;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Moe;

public sealed class DecodeAllocationTests
{
    public static TheoryData<CpuIsa, WeightFormat> IsasAndFormats()
    {
        var data = new TheoryData<CpuIsa, WeightFormat>();
        foreach (var isa in Enum.GetValues<CpuIsa>().Where(isa => isa <= CpuIsaDetector.Best))
        {
            data.Add(isa, WeightFormat.Bf16);
            data.Add(isa, WeightFormat.Q8);
            data.Add(isa, WeightFormat.PackedBf16);
        }
        return data;
    }

    /// <summary>
    /// After warm-up a decode step (one token through every layer, then the greedy choice) allocates
    /// 0 bytes on the calling thread and on the backend's worker threads. Other threads of the test
    /// host allocate on their own schedule, so the whole-process counter is not used. Every ISA
    /// path the machine has, with bf16 and with q8 weights: each has kernels of its own (q8's
    /// activation quantiser and per-worker scale scratch are reused).
    /// </summary>
    [Theory]
    [MemberData(nameof(IsasAndFormats))]
    public void DecodeStepsAllocateNothingAfterWarmUp(CpuIsa isa, WeightFormat format)
    {
        using var backend = new CpuBackend(threads: 2, isa);
        using var model = SaMoeModel.Load(TestPaths.Tiny, backend, format: format);
        if (format == WeightFormat.Q8)
        {
            Assert.True(Assert.IsType<CpuMatrix>(model.Speech.Layers[0].Qkv).HasQ8);
            Assert.True(Assert.IsType<CpuMatrix>(model.Vision.Head).HasQ8);
        }
        if (format == WeightFormat.PackedBf16)
        {
            // The tiny checkpoint mixes f32 and bf16 tensors; its bf16 ones are packed.
            var matrices = new[] { model.Speech, model.Vision }.SelectMany(e => e.Layers.SelectMany(l => new[] { l.Qkv, l.O, l.GateUp, l.Down }).Append(e.Head));
            Assert.Contains(matrices.SelectMany(m => Assert.IsType<CpuMatrix>(m).Parts), p => p.Dtype == WeightDtype.PackedBf16);
        }
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
