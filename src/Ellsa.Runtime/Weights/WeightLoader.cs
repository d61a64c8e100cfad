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
    /// <param name="ownedProjections">
    /// Copy the projections and heads that would be read in place from the checkpoint's mapping
    /// into memory of their own (<see cref="TensorConversion.Owned"/>): for a backend that reads
    /// them from host memory on every token (the CPU), not for one that uploads them once.
    /// </param>
    public static HostWeights Load(WeightPlan plan, IProgress<LoadProgress>? progress = null, bool prefault = true, CancellationToken cancel = default,
        WeightFormat? format = null, bool ownedProjections = false)
    {
        plan.ThrowIfIncomplete();
        var owned = new List<IDisposable>();
        var tracker = new Tracker(plan, progress);
        try
        {
            var lora = plan.Config.Settings.Lora;
            var chosen = format ?? plan.Config.Settings.Weights.Format;
            var reading = new Reading(prefault, ownedProjections);
            var speech = LoadExpert(plan[Expert.Speech], lora, chosen, owned, tracker, reading, cancel);
            var vision = LoadExpert(plan[Expert.Vision], lora, chosen, owned, tracker, reading, cancel);
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

    private static HostExpert LoadExpert(ExpertPlan plan, LoraSettings lora, WeightFormat format, List<IDisposable> owned, Tracker tracker, Reading reading, CancellationToken cancel)
    {
        string name = plan.Expert.Describe();
        // A lookup reads one embedding row per token: the embeddings stay where they are.
        var embedding = Stack($"{name}.embed", owned, tracker, reading with { OwnedProjections = false }, plan.Embedding, plan.ExtraEmbedding);
        var layers = new HostLayer[plan.Layers.Length];
        for (int l = 0; l < layers.Length; l++)
        {
            cancel.ThrowIfCancellationRequested();
            var layer = plan.Layers[l];
            string role = $"{name}.layers.{l}";
            var qkv = new HostMatrix($"{role}.qkv_proj", [
                Projection(format, layer.Q, lora, owned, tracker, reading),
                Projection(format, layer.K, lora, owned, tracker, reading),
                Projection(format, layer.V, lora, owned, tracker, reading),
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
                new HostMatrix($"{role}.o_proj", [Projection(format, layer.O, lora, owned, tracker, reading)]),
                new HostMatrix($"{role}.gate_up_proj", [
                    Projection(format, layer.Gate, lora, owned, tracker, reading),
                    Projection(format, layer.Up, lora, owned, tracker, reading),
                ]),
                new HostMatrix($"{role}.down_proj", [Projection(format, layer.Down, lora, owned, tracker, reading)]));
        }
        var finalNorm = Vector(plan.FinalNorm, tracker);
        var head = Stack($"{name}.head", owned, tracker, reading, plan.Head, plan.ExtraHead, format);
        return new HostExpert(embedding, layers, finalNorm, head);
    }

    private static HostMatrix Stack(string name, List<IDisposable> owned, Tracker tracker, Reading reading, TensorBinding first, TensorBinding? extra, WeightFormat format = WeightFormat.Bf16)
    {
        var parts = new List<MatrixPart> { Part(first, owned, tracker, reading, format) };
        if (extra is not null)
            parts.Add(Part(extra, owned, tracker, reading, format));
        return new HostMatrix(name, parts);
    }

    private static MatrixPart Part(TensorBinding binding, List<IDisposable> owned, Tracker tracker, Reading reading, WeightFormat format = WeightFormat.Bf16)
    {
        MatrixPart part;
        if (binding.Q8Scales is not null)
            part = Q8Quantization.Stored(binding.Tensor, binding.Q8Scales);
        else
            part = Converted(TensorConversion.Matrix(binding.Tensor, owned), binding.Tensor, format, owned);
        // A part converted or copied has read its tensor already; only one read in place is touched ahead.
        if (TensorConversion.InMapping(part, binding.Tensor))
        {
            if (reading.OwnedProjections)
                part = TensorConversion.Owned(part, binding.Tensor, binding.Q8Scales, owned);
            else if (reading.Prefault)
            {
                TensorConversion.Prefault(binding.Tensor);
                if (binding.Q8Scales is not null)
                    TensorConversion.Prefault(binding.Q8Scales);
            }
        }
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

    private static MatrixPart Projection(WeightFormat format, ProjectionPlan projection, LoraSettings lora, List<IDisposable> owned, Tracker tracker, Reading reading)
    {
        if (!projection.HasLora)
            return Part(projection.Weight, owned, tracker, reading, format);
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

    /// <summary>How the stored tensors are read: touched page by page first, and whether projections get memory of their own (<see cref="Load"/>).</summary>
    private readonly record struct Reading(bool Prefault, bool OwnedProjections);

    private sealed class Tracker(WeightPlan plan, IProgress<LoadProgress>? progress)
    {
        private readonly long _total = plan.Bindings.Sum(b => b.ByteLength);
        private readonly int _count = plan.Bindings.Count;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _bytes;
        private int _tensors;
        private long _lastReport = -1;

        public void Done(TensorBinding binding)
        {
            _bytes += binding.ByteLength;
            _tensors++;
            // Report at most every 50 ms: a real checkpoint has thousands of tensors.
            long now = _clock.ElapsedMilliseconds;
            if (progress is not null && now - _lastReport >= 50)
            {
                _lastReport = now;
                progress.Report(new LoadProgress(_bytes, _total, _tensors, _count, _clock.Elapsed, binding.Tensor.Name));
            }
        }


        public void Finish() => progress?.Report(new LoadProgress(_total, _total, _count, _count, _clock.Elapsed, ""));
    }
}
