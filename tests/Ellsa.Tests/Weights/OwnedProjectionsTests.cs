using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Weights;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Weights;

/// <summary>
/// A load for the CPU copies the projections and heads out of the checkpoint's file mapping into
/// buffers of its own (which sit on huge pages), bf16 ones and a converted checkpoint's stored q8
/// ones alike, while the embeddings stay in the mapping; the copies hold the stored bytes.
/// </summary>
public sealed unsafe class OwnedProjectionsTests
{
    // Merged LoRA: unmerged projections are merged into buffers of the loader's own either way.
    [Fact]
    public void Bf16ProjectionsAreCopiedAndEmbeddingsStayMapped()
    {
        using var temp = TestPaths.CreateTemp();
        RandomCheckpoint.Create(temp.Path, new Random(Environment.TickCount), "bf16", mergedLora: true);
        Check(temp.Path, WeightDtype.BF16);
    }

    [Fact]
    public void StoredQ8ProjectionsAreCopiedWithTheirScales()
    {
        using var temp = TestPaths.CreateTemp();
        using var quantized = TestPaths.CreateTemp();
        RandomCheckpoint.Create(temp.Path, new Random(Environment.TickCount), "bf16", mergedLora: true);
        CheckpointQuantizer.Write(temp.Path, quantized.Path);
        Check(quantized.Path, WeightDtype.Q8);
    }

    private static void Check(string directory, WeightDtype projections)
    {
        using var mapped = Load(directory, owned: false, out var mappedAddresses);
        using var copied = Load(directory, owned: true, out var copiedAddresses);
        int parts = 0;
        foreach (var (a, b) in Experts(mapped).Zip(Experts(copied)))
        {
            AssertSameParts(a.Embedding, b.Embedding, mappedAddresses, copiedAddresses, expectCopy: false, ref parts);
            AssertSameParts(a.Head, b.Head, mappedAddresses, copiedAddresses, expectCopy: true, ref parts);
            foreach (var (la, lb) in a.Layers.Zip(b.Layers))
            {
                foreach (var (ma, mb) in new[] { (la.Qkv, lb.Qkv), (la.O, lb.O), (la.GateUp, lb.GateUp), (la.Down, lb.Down) })
                {
                    Assert.All(ma.Parts.ToArray(), p => Assert.Equal(projections, p.Dtype));
                    AssertSameParts(ma, mb, mappedAddresses, copiedAddresses, expectCopy: true, ref parts);
                }
            }
        }
        Assert.True(parts > 10);
    }

    private static HostExpert[] Experts(HostWeights weights) => [weights.Speech, weights.Vision];

    private static HostWeights Load(string directory, bool owned, out HashSet<nint> storedAddresses)
    {
        var store = CheckpointStore.Open(directory);
        storedAddresses = store.Tensors.Values.Select(t => (nint)t.File.DataPointer(t.Entry)).ToHashSet();
        return WeightLoader.Load(WeightPlan.Create(store, ModelConfig.Load(directory)), ownedProjections: owned);
    }

    private static void AssertSameParts(HostMatrix mapped, HostMatrix copied, HashSet<nint> mappedAddresses, HashSet<nint> copiedAddresses,
        bool expectCopy, ref int parts)
    {
        Assert.Equal(mapped.Parts.Count, copied.Parts.Count);
        for (int i = 0; i < mapped.Parts.Count; i++)
        {
            var a = mapped.Parts[i];
            var b = copied.Parts[i];
            string where = $"{copied.Name} part {i}";
            Assert.True(mappedAddresses.Contains((nint)a.Data), $"{where}: the in-place load reads the mapping");
            Assert.True(copiedAddresses.Contains((nint)b.Data) != expectCopy, $"{where}: {(expectCopy ? "still in the mapping" : "copied")}");
            Assert.Equal(a.Dtype, b.Dtype);
            Assert.Equal(a.ByteSize, b.ByteSize);
            long valueBytes = a.Dtype == WeightDtype.Q8 ? (long)a.Rows * a.Cols : a.ByteSize;
            Assert.True(new ReadOnlySpan<byte>(a.Data, checked((int)valueBytes)).SequenceEqual(new ReadOnlySpan<byte>(b.Data, (int)valueBytes)), $"{where}: values differ");
            if (a.Dtype == WeightDtype.Q8)
            {
                Assert.True(copiedAddresses.Contains((nint)b.Scales) != expectCopy, $"{where}: scales {(expectCopy ? "still in the mapping" : "copied")}");
                int scaleBytes = checked((int)(a.ByteSize - valueBytes));
                Assert.True(new ReadOnlySpan<byte>(a.Scales, scaleBytes).SequenceEqual(new ReadOnlySpan<byte>(b.Scales, scaleBytes)), $"{where}: scales differ");
            }
            parts++;
        }
    }
}
