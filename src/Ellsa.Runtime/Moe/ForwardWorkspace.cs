using Ellsa.Kernels.Backend;

namespace Ellsa.Runtime.Moe;

/// <summary>
/// The activations of one forward pass over up to <see cref="Rows"/> positions, allocated once per
/// sequence so that decode steps allocate nothing. Columns are sized for the widest expert.
/// </summary>
internal sealed class ForwardWorkspace : IDisposable
{
    public ForwardWorkspace(IComputeBackend backend, IReadOnlyList<ExpertWeights> experts, int rows)
    {
        var geometry = experts[0].Config;
        int d = geometry.HiddenSize;
        int ff = experts.Max(e => e.Config.IntermediateSize);
        Rows = rows;
        QueryWidth = geometry.QueryWidth;
        KvWidth = geometry.KvWidth;
        X = backend.AllocateTensor(rows, d);
        Normed = backend.AllocateTensor(rows, d);
        Qkv = backend.AllocateTensor(rows, QueryWidth + 2 * KvWidth);
        Attention = backend.AllocateTensor(rows, QueryWidth);
        Activation = backend.AllocateTensor(rows, ff);
        LogitRows = Math.Min(rows, 64);
        Logits = backend.AllocateTensor(LogitRows, experts.Max(e => e.HeadSize));
        Ids = backend.AllocateIndices(rows);
        Positions = backend.AllocateIndices(rows);
        HostIds = new int[rows];
        HostPositions = new int[rows];
        RowSource = new int[rows];
    }

    public int Rows { get; }
    public int QueryWidth { get; }
    public int KvWidth { get; }
    /// <summary>The residual stream.</summary>
    public DeviceTensor X { get; }
    public DeviceTensor Normed { get; }
    public DeviceTensor Qkv { get; }
    public DeviceTensor Attention { get; }
    public DeviceTensor Activation { get; }
    public int LogitRows { get; }
    public DeviceTensor Logits { get; }
    public DeviceIndices Ids { get; }
    public DeviceIndices Positions { get; }
    public int[] HostIds { get; }
    public int[] HostPositions { get; }
    /// <summary>For each workspace row, the batch position it came from.</summary>
    public int[] RowSource { get; }
    /// <summary>Embedding rows gathered for upload; grows on first use.</summary>
    public float[] Staging { get; set; } = [];

    public void Dispose()
    {
        X.Dispose();
        Normed.Dispose();
        Qkv.Dispose();
        Attention.Dispose();
        Activation.Dispose();
        Logits.Dispose();
        Ids.Dispose();
        Positions.Dispose();
    }
}
