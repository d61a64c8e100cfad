using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;

namespace Ellsa.Perf.Gpu;

/// <summary>
/// The least a figure can cost: bytes that must cross device memory ÷ the copy bandwidth measured in
/// this run, and FLOPs ÷ the bf16 rate measured in this run (PyTorch's matmul in the baseline script),
/// whichever is larger.
/// </summary>
public sealed class Floors(SaMoeModel model, double copyGBps, double bf16Tflops, bool bf16Measured)
{
    public double CopyGBps { get; } = copyGBps;
    public double Bf16Tflops { get; } = bf16Tflops;
    public bool Bf16Measured { get; } = bf16Measured;

    private ExpertConfig Config => model.Config.Speech;

    /// <summary>K and V bytes one layer reads or writes per position (fp32 cache).</summary>
    private long KvBytesPerPosition => 2L * Config.Layers * Config.KvHeads * Config.HeadDim * 4;

    private static long LayerBytes(ExpertWeights e) => e.Layers.Sum(l => l.Qkv.ByteSize + l.O.ByteSize + l.GateUp.ByteSize + l.Down.ByteSize);

    private static long LayerParams(ExpertWeights e) => LayerBytes(e) / 2;

    /// <summary>One decode step through <paramref name="expert"/> at <paramref name="context"/> cached positions, with its head's argmax.</summary>
    public double DecodeBytes(Expert expert, int context, bool withHead = true)
    {
        var e = model[expert];
        return LayerBytes(e) + (withHead ? e.Head.ByteSize : 0) + KvBytesPerPosition * (context + 1) + 2L * Config.HiddenSize;
    }

    public double DecodeMs(Expert expert, int context, bool withHead = true) => DecodeBytes(expert, context, withHead) / (CopyGBps * 1e9) * 1e3;

    /// <summary>
    /// FLOPs of appending <paramref name="speechRows"/> + <paramref name="visionRows"/> positions after
    /// <paramref name="history"/> cached ones (projections, causal attention) and the first token's head.
    /// </summary>
    public double PrefillFlops(int history, int speechRows, int visionRows)
    {
        int rows = speechRows + visionRows;
        double projections = 2.0 * (LayerParams(model.Speech) * (double)speechRows + LayerParams(model.Vision) * (double)visionRows);
        // Row i attends to history + i + 1 keys: QKᵀ and PV, 2 FLOPs per multiply-add, every head and layer.
        double keys = (double)rows * history + rows * (rows + 1) / 2.0;
        double attention = 4.0 * Config.Layers * Config.Heads * Config.HeadDim * keys;
        double head = 2.0 * model.Speech.Head.Rows * Config.HiddenSize;
        return projections + attention + head;
    }

    public double PrefillBytes(int history, int speechRows, int visionRows)
    {
        double weights = (speechRows > 0 ? LayerBytes(model.Speech) : 0) + (visionRows > 0 ? LayerBytes(model.Vision) : 0) + model.Speech.Head.ByteSize;
        double kv = KvBytesPerPosition * (double)(history + speechRows + visionRows);
        return weights + kv;
    }

    public double PrefillMs(int history, int speechRows, int visionRows) => Math.Max(
        PrefillFlops(history, speechRows, visionRows) / (Bf16Tflops * 1e12) * 1e3,
        PrefillBytes(history, speechRows, visionRows) / (CopyGBps * 1e9) * 1e3);
}
