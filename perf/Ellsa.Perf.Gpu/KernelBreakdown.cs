using System.Diagnostics;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu;
using Ellsa.Runtime.Moe;

namespace Ellsa.Perf.Gpu;

/// <summary>
/// Single operations at the model's shapes, each timed over many back-to-back launches: where the
/// time of a decode step or a prefill goes, as achieved bandwidth or rate against the ceilings.
/// </summary>
public static class KernelBreakdown
{
    public static List<string> Run(IlgpuBackend exact, IlgpuBackend fast, SaMoeModel model, BenchShape shape, int context, double copyGBps, double bf16Tflops)
    {
        var lines = new List<string>
        {
            "| operation | shape | ms | achieved | ceiling |",
            "| --- | --- | ---: | ---: | ---: |",
        };
        var config = shape.Config.Speech;
        var layer = model.Speech.Layers[0];
        int d = config.HiddenSize;
        int ff = config.IntermediateSize;
        int t = shape.LongPrefill;
        using var x = exact.AllocateTensor(t, Math.Max(ff, config.QueryWidth));
        using var y = exact.AllocateTensor(t, 2 * ff);
        using var logits = exact.AllocateTensor(1, model.Vision.Head.Rows);
        exact.Upload(Ones(t * x.Cols, 0.01f), x.All);

        void Gemv(string name, DeviceMatrix w)
        {
            var output = w.Rows <= y.Cols ? y.RowRange(0, 1).Columns(0, w.Rows) : logits.All;
            double ms = Time(exact, 20, () => exact.MatMul(w, x.RowRange(0, 1).Columns(0, w.Cols), output, null, false));
            lines.Add($"| decode GEMV {name} | {w.Rows}×{w.Cols} bf16, 1 row | {ms:F4} | {w.ByteSize / (ms * 1e-3) / 1e9:F0} GB/s | {copyGBps:F0} GB/s |");
        }
        Gemv("q, k, v", layer.Qkv);
        Gemv("o", layer.O);
        Gemv("down", layer.Down);
        Gemv("vision head", model.Vision.Head);
        double gateUpMs = Time(exact, 20, () => exact.GateUpSwiGlu(layer.GateUp, x.RowRange(0, 1).Columns(0, d), y.RowRange(0, 1).Columns(0, ff)));
        lines.Add($"| decode gate/up + SiLU·mul | {layer.GateUp.Rows}×{d} bf16, 1 row | {gateUpMs:F4} | {layer.GateUp.ByteSize / (gateUpMs * 1e-3) / 1e9:F0} GB/s | {copyGBps:F0} GB/s |");

        foreach (var (name, backend) in new[] { ("exact", exact), ("fast", fast) })
        {
            double ms = Time(backend, 3, () => backend.MatMul(layer.GateUp, x.RowRange(0, t).Columns(0, d), y.RowRange(0, t).Columns(0, layer.GateUp.Rows), null, false));
            double flops = 2.0 * t * layer.GateUp.Rows * d;
            lines.Add($"| prefill GEMM gate/up, {name} | {t}×{d} · ({layer.GateUp.Rows}×{d})ᵀ | {ms:F3} | {flops / (ms * 1e-3) / 1e12:F0} TFLOP/s | {bf16Tflops:F0} TFLOP/s |");
        }

        using var cache = exact.AllocateKvCache(1, config.KvHeads, config.HeadDim, Math.Max(context, t) + 1);
        using var positions = exact.AllocateIndices(t);
        exact.Upload(Enumerable.Range(0, t).ToArray(), positions, 0);
        var kv = y.RowRange(0, t).Columns(0, config.KvWidth);
        exact.WriteKv(cache, 0, kv, kv, positions, 0);
        using var decodePositions = exact.AllocateIndices(1);
        exact.Upload([context], decodePositions, 0);
        double attentionMs = Time(exact, 20, () => exact.Attention(cache, 0, x.RowRange(0, 1).Columns(0, config.QueryWidth), decodePositions, 0, y.RowRange(0, 1).Columns(0, config.QueryWidth)));
        double kvBytes = 2.0 * config.KvHeads * config.HeadDim * 4 * (context + 1);
        lines.Add($"| decode attention (one layer) | context {context + 1}, {config.Heads}/{config.KvHeads} heads | {attentionMs:F4} | {kvBytes / (attentionMs * 1e-3) / 1e9:F0} GB/s | {copyGBps:F0} GB/s |");
        double prefillAttentionMs = Time(exact, 3, () => exact.Attention(cache, 0, x.RowRange(0, t).Columns(0, config.QueryWidth), positions, 0, y.RowRange(0, t).Columns(0, config.QueryWidth)));
        double attentionFlops = 4.0 * config.Heads * config.HeadDim * (t * (t + 1) / 2.0);
        lines.Add($"| prefill attention (one layer) | {t} rows, causal | {prefillAttentionMs:F3} | {attentionFlops / (prefillAttentionMs * 1e-3) / 1e12:F1} TFLOP/s | {bf16Tflops:F0} TFLOP/s (bf16) |");
        return lines;
    }

    private static float[] Ones(int count, float value)
    {
        var values = new float[count];
        Array.Fill(values, value);
        return values;
    }

    /// <summary>ms per call over back-to-back calls (launch gaps included, as in a decode step).</summary>
    private static double Time(IComputeBackend backend, int count, Action action)
    {
        action();
        backend.Synchronize();
        var samples = new double[3];
        for (int s = 0; s < samples.Length; s++)
        {
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < count; i++)
                action();
            backend.Synchronize();
            samples[s] = watch.Elapsed.TotalMilliseconds / count;
        }
        return Timed.Median(samples);
    }
}
