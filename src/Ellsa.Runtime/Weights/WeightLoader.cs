using System.Diagnostics;
using Ellsa.Kernels.Backend;
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
            bool q8 = (format ?? plan.Config.Settings.Weights.Format) == WeightFormat.Q8;
            var speech = LoadExpert(plan[Expert.Speech], lora, q8, owned, tracker, prefault, cancel);
            var vision = LoadExpert(plan[Expert.Vision], lora, q8, owned, tracker, prefault, cancel);
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

    private static HostExpert LoadExpert(ExpertPlan plan, LoraSettings lora, bool q8, List<IDisposable> owned, Tracker tracker, bool prefault, CancellationToken cancel)
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
                Projection(q8, layer.Q, lora, owned, tracker, prefault),
                Projection(q8, layer.K, lora, owned, tracker, prefault),
                Projection(q8, layer.V, lora, owned, tracker, prefault),
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
                new HostMatrix($"{role}.o_proj", [Projection(q8, layer.O, lora, owned, tracker, prefault)]),
                new HostMatrix($"{role}.gate_up_proj", [
                    Projection(q8, layer.Gate, lora, owned, tracker, prefault),
                    Projection(q8, layer.Up, lora, owned, tracker, prefault),
                ]),
                new HostMatrix($"{role}.down_proj", [Projection(q8, layer.Down, lora, owned, tracker, prefault)]));
        }
        var finalNorm = Vector(plan.FinalNorm, tracker);
        var head = Stack($"{name}.head", owned, tracker, prefault, plan.Head, plan.ExtraHead, q8);
        return new HostExpert(embedding, layers, finalNorm, head);
    }

    private static HostMatrix Stack(string name, List<IDisposable> owned, Tracker tracker, bool prefault, TensorBinding first, TensorBinding? extra, bool q8 = false)
    {
        var parts = new List<MatrixPart> { Part(first, owned, tracker, prefault, q8) };
        if (extra is not null)
            parts.Add(Part(extra, owned, tracker, prefault, q8));
        return new HostMatrix(name, parts);
    }

    private static MatrixPart Part(TensorBinding binding, List<IDisposable> owned, Tracker tracker, bool prefault, bool q8 = false)
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
        else if (q8)
            part = Q8Quantization.Quantize(TensorConversion.Matrix(binding.Tensor, owned), binding.Tensor, owned);
        else
            part = TensorConversion.Matrix(binding.Tensor, owned);
        tracker.Done(binding);
        return part;
    }

    private static MatrixPart Projection(bool q8, ProjectionPlan projection, LoraSettings lora, List<IDisposable> owned, Tracker tracker, bool prefault)
    {
        if (!projection.HasLora)
            return Part(projection.Weight, owned, tracker, prefault, q8);
        var merged = TensorConversion.MergeLora(projection.Weight.Tensor, projection.LoraA!.Tensor, projection.LoraB!.Tensor,
            lora.Scaling, lora.MergedDtype == MergedLoraDtype.BF16 && !q8, owned);
        if (q8)
        {
            // The merged f32 buffer is only the quantiser's input: free it once the q8 copy exists.
            var widened = merged;
            var last = owned[^1];
            merged = Q8Quantization.Quantize(widened, projection.Weight.Tensor, owned);
            owned.Remove(last);
            last.Dispose();
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
