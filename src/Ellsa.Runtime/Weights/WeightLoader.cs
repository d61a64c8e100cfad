using System.Diagnostics;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Numerics;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;

namespace Ellsa.Runtime.Weights;

/// <summary>
/// Materialises a complete <see cref="WeightPlan"/>: merges LoRA, fuses q|k|v and gate|up, widens
/// f16, and with <see cref="WeightFormat.Q8"/> quantises every projection and both heads (the
/// embeddings stay as stored: a lookup reads one row per token). Tensors a converted checkpoint
/// stores as q8 are used in place whatever the format.
/// </summary>
public static class WeightLoader
{
    /// <param name="format">Overrides ellsa.json's <c>weights.format</c> (the CLI's <c>--weights</c>); null keeps it.</param>
    public static HostWeights Load(WeightPlan plan, IProgress<LoadProgress>? progress = null, bool prefault = true, CancellationToken cancel = default,
        WeightFormat? format = null)
    {
        plan.ThrowIfIncomplete();
        var owned = new List<IDisposable>();
        var tracker = new Tracker(plan, progress);
        try
        {
            var lora = plan.Config.Settings.Lora;
            var chosen = format ?? plan.Config.Settings.Weights.Format;
            var speech = LoadExpert(plan[Expert.Speech], lora, chosen, owned, tracker, prefault, cancel);
            var vision = LoadExpert(plan[Expert.Vision], lora, chosen, owned, tracker, prefault, cancel);
            tracker.Finish();
            return new HostWeights(speech, vision, owned.Append(plan.Store));
        }
        catch
        {
            foreach (var item in owned)
                item.Dispose();
            throw;
        }
    }

    private static HostExpert LoadExpert(ExpertPlan plan, LoraSettings lora, WeightFormat format, List<IDisposable> owned, Tracker tracker, bool prefault, CancellationToken cancel)
    {
        string name = plan.Expert.Describe();
        var embedding = Stack($"{name}.embed", owned, tracker, prefault, plan.Embedding, plan.ExtraEmbedding);
        var layers = new HostLayer[plan.Layers.Length];
        for (int l = 0; l < layers.Length; l++)
        {
            cancel.ThrowIfCancellationRequested();
            var layer = plan.Layers[l];
            string role = $"{name}.layers.{l}";
            var qkv = new HostMatrix($"{role}.qkv_proj", [
                Projection(format, layer.Q, lora, owned, tracker, prefault),
                Projection(format, layer.K, lora, owned, tracker, prefault),
                Projection(format, layer.V, lora, owned, tracker, prefault),
            ]);
            float[]? bias = null;
            if (layer.Q.Bias is not null || layer.K.Bias is not null || layer.V.Bias is not null)
            {
                bias = new float[qkv.Rows];
                int offset = 0;
                foreach (var projection in new[] { layer.Q, layer.K, layer.V })
                {
                    int rows = (int)projection.Weight.Tensor.Entry.Shape[0];
                    if (projection.Bias is not null)
                        Vector(projection.Bias, tracker).CopyTo(bias, offset);
                    offset += rows;
                }
            }
            layers[l] = new HostLayer(
                Vector(layer.InputNorm, tracker),
                Vector(layer.PostNorm, tracker),
                qkv,
                bias,
                new HostMatrix($"{role}.o_proj", [Projection(format, layer.O, lora, owned, tracker, prefault)]),
                new HostMatrix($"{role}.gate_up_proj", [
                    Projection(format, layer.Gate, lora, owned, tracker, prefault),
                    Projection(format, layer.Up, lora, owned, tracker, prefault),
                ]),
                new HostMatrix($"{role}.down_proj", [Projection(format, layer.Down, lora, owned, tracker, prefault)]));
        }
        var finalNorm = Vector(plan.FinalNorm, tracker);
        var head = Stack($"{name}.head", owned, tracker, prefault, plan.Head, plan.ExtraHead, format);
        return new HostExpert(embedding, layers, finalNorm, head);
    }

    private static HostMatrix Stack(string name, List<IDisposable> owned, Tracker tracker, bool prefault, TensorBinding first, TensorBinding? extra, WeightFormat format = WeightFormat.Bf16)
    {
        var parts = new List<MatrixPart> { Part(first, owned, tracker, prefault, format) };
        if (extra is not null)
            parts.Add(Part(extra, owned, tracker, prefault, format));
        return new HostMatrix(name, parts);
    }

    private static MatrixPart Part(TensorBinding binding, List<IDisposable> owned, Tracker tracker, bool prefault, WeightFormat format = WeightFormat.Bf16)
    {
        if (prefault)
        {
            TensorConversion.Prefault(binding.Tensor);
            if (binding.Q8Scales is not null)
                TensorConversion.Prefault(binding.Q8Scales);
        }
        MatrixPart part;
        if (binding.Q8Scales is not null)
            part = Q8Quantization.Stored(binding.Tensor, binding.Q8Scales);
        else
            part = Converted(TensorConversion.Matrix(binding.Tensor, owned), binding.Tensor, format, owned);
        tracker.Done(binding);
        return part;
    }

    /// <summary>A bf16/f32 part in the format asked for: quantised for q8, packed for bf16-packed (bf16 parts of whole 64-value blocks; others stay as they are).</summary>
    private static MatrixPart Converted(MatrixPart part, StoredTensor source, WeightFormat format, List<IDisposable> owned)
    {
        switch (format)
        {
            case WeightFormat.Q8:
                return Q8Quantization.Quantize(part, source, owned);
            case WeightFormat.PackedBf16 when part.Dtype == WeightDtype.BF16 && PackedBf16.CanPack(part.Cols):
                var packed = PackedBf16Rows.Pack(part);
                owned.Add(packed);
                return new MatrixPart(packed);
            default:
                return part;
        }
    }

    private static MatrixPart Projection(WeightFormat format, ProjectionPlan projection, LoraSettings lora, List<IDisposable> owned, Tracker tracker, bool prefault)
    {
        if (!projection.HasLora)
            return Part(projection.Weight, owned, tracker, prefault, format);
        var merged = TensorConversion.MergeLora(projection.Weight.Tensor, projection.LoraA!.Tensor, projection.LoraB!.Tensor,
            lora.Scaling, lora.MergedDtype == MergedLoraDtype.BF16 && format != WeightFormat.Q8, owned);
        var mergedBuffer = owned[^1];
        var converted = Converted(merged, projection.Weight.Tensor, format, owned);
        if (converted.Dtype != merged.Dtype)
        {
            // The merged buffer is only the conversion's input: free it once the converted copy exists.
            owned.Remove(mergedBuffer);
            mergedBuffer.Dispose();
            merged = converted;
        }
        tracker.Done(projection.Weight);
        tracker.Done(projection.LoraA);
        tracker.Done(projection.LoraB!);
        return merged;
    }

    private static float[] Vector(TensorBinding binding, Tracker tracker)
    {
        var values = TensorConversion.ReadVector(binding.Tensor);
        tracker.Done(binding);
        return values;
    }

    private sealed class Tracker(WeightPlan plan, IProgress<LoadProgress>? progress)
    {
        private readonly long _total = plan.Bindings.Sum(Bytes);
        private readonly int _count = plan.Bindings.Count;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _bytes;
        private int _tensors;
        private long _lastReport = -1;

        public void Done(TensorBinding binding)
        {
            _bytes += Bytes(binding);
            _tensors++;
            // Report at most every 50 ms: a real checkpoint has thousands of tensors.
            long now = _clock.ElapsedMilliseconds;
            if (progress is not null && now - _lastReport >= 50)
            {
                _lastReport = now;
                progress.Report(new LoadProgress(_bytes, _total, _tensors, _count, _clock.Elapsed, binding.Tensor.Name));
            }
        }

        private static long Bytes(TensorBinding binding) => binding.Tensor.Entry.ByteLength + (binding.Q8Scales?.Entry.ByteLength ?? 0);

        public void Finish() => progress?.Report(new LoadProgress(_total, _total, _count, _count, _clock.Elapsed, ""));
    }
}
