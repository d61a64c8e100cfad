using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Weights;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Weights;

public sealed class WeightPlanTests
{
    private static TempDirectory CopyTinyWithout(Func<string, bool> drop, Func<TensorData, TensorData>? change = null)
    {
        var temp = TestPaths.CreateTemp();
        foreach (string file in new[] { "config.json", "vision_config.json", "ellsa.json" })
            File.Copy(Path.Combine(TestPaths.Tiny, file), temp.File(file));
        using var store = CheckpointStore.Open(TestPaths.Tiny);
        var tensors = store.Tensors.Values
            .Where(t => !drop(t.Name))
            .Select(t => new TensorData(t.Name, t.Entry.Dtype, t.Entry.Shape, t.File.Bytes(t.Entry).ToArray()))
            .Select(t => change?.Invoke(t) ?? t)
            .ToList();
        SafetensorsWriter.Write(temp.File(CheckpointStore.SingleFileName), tensors);
        return temp;
    }

    private static WeightPlan Plan(string directory, out CheckpointStore store)
    {
        store = CheckpointStore.Open(directory);
        return WeightPlan.Create(store, ModelConfig.Load(directory));
    }

    [Fact]
    public void TheTinyModelBindsEveryTensorWithoutAliases()
    {
        var plan = Plan(TestPaths.Tiny, out var store);
        using (store)
        {
            Assert.True(plan.IsComplete);
            Assert.Empty(plan.Unused);
            Assert.DoesNotContain(plan.Bindings, b => b.IsAlias);
            Assert.Equal(store.Tensors.Count, plan.Bindings.Count);
        }
    }

    [Fact]
    public void MergedExportsBindThroughAliases()
    {
        var plan = Plan(Path.Combine(TestPaths.Variants, "merged_f32", "model"), out var store);
        using (store)
        {
            Assert.True(plan.IsComplete);
            Assert.Contains(plan.Bindings, b => b.IsAlias && b.Tensor.Name == "speech_expert.model.model.embed_tokens.weight");
            Assert.Contains(plan.Bindings, b => b.Role == "vision.layers.0.q_proj" && b.Tensor.Name.EndsWith("self_attn.q_proj.weight"));
        }
    }

    [Fact]
    public void EveryMissingTensorIsNamedWithTheSpellingsTried()
    {
        using var temp = CopyTinyWithout(name => name.Contains("layers.1.mlp.up_proj") || name.EndsWith("lm_head.weight"));
        var plan = Plan(temp.Path, out var store);
        using (store)
        {
            Assert.False(plan.IsComplete);
            Assert.Contains(plan.Missing, m => m.StartsWith("speech.layers.1.up_proj: speech_expert.model.base_model.model.model.layers.1.mlp.up_proj.weight (also tried"));
            Assert.Contains(plan.Missing, m => m.StartsWith("vision.layers.1.up_proj: "));
            Assert.Contains(plan.Missing, m => m.StartsWith("vision.head: vision_expert.lm_head.weight"));
            var error = Assert.Throws<CheckpointException>(() => plan.ThrowIfIncomplete());
            Assert.Contains("3 expected tensors are missing", error.Message);
        }
    }

    [Fact]
    public void ShapeDtypeAndRankProblemsAreCollected()
    {
        using var temp = CopyTinyWithout(_ => false, t => t.Name switch
        {
            var n when n.EndsWith("layers.0.self_attn.o_proj.weight") && n.StartsWith("speech") =>
                t with { Shape = [32, 128], Data = t.Data },
            var n when n.EndsWith("layers.1.input_layernorm.weight") && n.StartsWith("vision") =>
                t with { Dtype = SafetensorsDtype.I16 },
            _ => t,
        });
        File.WriteAllText(temp.File("ellsa.json"), File.ReadAllText(temp.File("ellsa.json")).Replace("\"r\": 8", "\"r\": 16"));
        var plan = Plan(temp.Path, out var store);
        using (store)
        {
            Assert.Contains(plan.Problems, p => p.Contains("layers.0.self_attn.o_proj.weight' has shape [32, 128], expected [64, 64] from config.json"));
            Assert.Contains(plan.Problems, p => p.Contains("has dtype I16; weights must be BF16, F16 or F32"));
            Assert.Contains(plan.Problems, p => p.Contains("lora_A has rank 8 but ellsa.json lora.r is 16"));
        }
    }

    [Fact]
    public void UnusedTensorsAreReported()
    {
        const string encoder = "speech_expert.speechencoder.encoder_embed.conv.0.weight";
        using var temp = CopyTinyWithout(_ => false);
        List<TensorData> tensors;
        using (var copy = CheckpointStore.Open(temp.Path))
            tensors = copy.Tensors.Values.Select(t => new TensorData(t.Name, t.Entry.Dtype, t.Entry.Shape, t.File.Bytes(t.Entry).ToArray())).ToList();
        tensors.Add(new TensorData(encoder, SafetensorsDtype.F32, [2], new byte[8]));
        SafetensorsWriter.Write(temp.File(CheckpointStore.SingleFileName), tensors);

        var plan = Plan(temp.Path, out var store);
        using (store)
        {
            Assert.True(plan.IsComplete);
            Assert.Equal([encoder], plan.Unused.Select(t => t.Name));
        }
    }
}
