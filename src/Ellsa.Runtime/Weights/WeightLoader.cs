using System.Diagnostics;
using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;

namespace Ellsa.Runtime.Weights;

/// <summary>Materialises a complete <see cref="WeightPlan"/>: merges LoRA, fuses q|k|v and gate|up, widens f16.</summary>
public static class WeightLoader
{
    public static HostWeights Load(WeightPlan plan, IProgress<LoadProgress>? progress = null, bool prefault = true, CancellationToken cancel = default)
    {
        plan.ThrowIfIncomplete();
        var owned = new List<IDisposable>();
        var tracker = new Tracker(plan, progress);
        try
        {
            var lora = plan.Config.Settings.Lora;
            var speech = LoadExpert(plan[Expert.Speech], lora, owned, tracker, prefault, cancel);
            var vision = LoadExpert(plan[Expert.Vision], lora, owned, tracker, prefault, cancel);
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

    private static HostExpert LoadExpert(ExpertPlan plan, LoraSettings lora, List<IDisposable> owned, Tracker tracker, bool prefault, CancellationToken cancel)
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
                Projection(layer.Q, lora, owned, tracker, prefault),
                Projection(layer.K, lora, owned, tracker, prefault),
                Projection(layer.V, lora, owned, tracker, prefault),
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
                new HostMatrix($"{role}.o_proj", [Projection(layer.O, lora, owned, tracker, prefault)]),
                new HostMatrix($"{role}.gate_up_proj", [
                    Projection(layer.Gate, lora, owned, tracker, prefault),
                    Projection(layer.Up, lora, owned, tracker, prefault),
                ]),
                new HostMatrix($"{role}.down_proj", [Projection(layer.Down, lora, owned, tracker, prefault)]));
        }
        var finalNorm = Vector(plan.FinalNorm, tracker);
        var head = Stack($"{name}.head", owned, tracker, prefault, plan.Head, plan.ExtraHead);
        return new HostExpert(embedding, layers, finalNorm, head);
    }

    private static HostMatrix Stack(string name, List<IDisposable> owned, Tracker tracker, bool prefault, TensorBinding first, TensorBinding? extra)
    {
        var parts = new List<MatrixPart> { Part(first, owned, tracker, prefault) };
        if (extra is not null)
            parts.Add(Part(extra, owned, tracker, prefault));
        return new HostMatrix(name, parts);
    }

    private static MatrixPart Part(TensorBinding binding, List<IDisposable> owned, Tracker tracker, bool prefault)
    {
        if (prefault)
            TensorConversion.Prefault(binding.Tensor);
        var part = TensorConversion.Matrix(binding.Tensor, owned);
        tracker.Done(binding);
        return part;
    }

    private static MatrixPart Projection(ProjectionPlan projection, LoraSettings lora, List<IDisposable> owned, Tracker tracker, bool prefault)
    {
        if (!projection.HasLora)
            return Part(projection.Weight, owned, tracker, prefault);
        var merged = TensorConversion.MergeLora(projection.Weight.Tensor, projection.LoraA!.Tensor, projection.LoraB!.Tensor,
            lora.Scaling, lora.MergedDtype == MergedLoraDtype.BF16, owned);
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
        private readonly long _total = plan.Bindings.Sum(b => b.Tensor.Entry.ByteLength);
        private readonly int _count = plan.Bindings.Count;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _bytes;
        private int _tensors;
        private long _lastReport = -1;

        public void Done(TensorBinding binding)
        {
            _bytes += binding.Tensor.Entry.ByteLength;
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
