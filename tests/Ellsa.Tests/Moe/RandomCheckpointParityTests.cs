using Ellsa.Runtime.Decoding;
using Ellsa.Runtime.Moe;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Moe;

/// <summary>
/// Fresh random checkpoints every run (shapes, GQA groups, dtypes, LoRA merged or not, biases,
/// RoPE scaling, shards) through the whole engine — loader, binding, LoRA merge, forward,
/// decode — against <see cref="NaiveSaMoe"/>, a plain double-precision implementation.
/// </summary>
public sealed class RandomCheckpointParityTests
{
    [Fact]
    public void ForwardAndGenerateMatchTheNaiveImplementation()
    {
        int seed = Environment.TickCount;
        for (int trial = 0; trial < 4; trial++)
        {
            var random = new Random(seed + trial);
            using var temp = TestPaths.CreateTemp();
            var reference = RandomCheckpoint.Create(temp.Path, random);
            string context = $"seed {seed + trial}: d={reference.Hidden} L={reference.LayersCount} H={reference.Heads}/{reference.KvHeads} hd={reference.HeadDim} merged={reference.MergedLora}";

            var positions = RandomSequence(reference, random);
            var batch = NaiveSaMoe.Batch(positions);
            var items = NaiveSaMoe.Route(reference, positions);
            var residuals = NaiveSaMoe.Residuals(reference, items);

            using var model = SaMoeModel.Load(temp.Path, SharedBackends.Cpu);
            using var state = model.CreateSequence(batch.Count + 20);
            var sink = new GoldenTests.CollectingSink();
            state.Append(batch, sink);
            for (int p = 0; p < items.Count; p++)
            {
                Assert.Equal(items[p].Vision ? Expert.Vision : Expert.Speech, sink.Experts[p]);
                var referenceLogits = NaiveSaMoe.Logits(reference, residuals[p], items[p].Vision, items[p].Vision);
                double error = Numeric.RelativeL2(sink.Rows[p], referenceLogits);
                Assert.True(error < 1e-4, $"{context}: position {p} relative L2 {error:E2}");
            }

            var (text, actions, margins) = NaiveSaMoe.Generate(reference, items, 4, 4);
            using var generateState = model.CreateSequence(batch.Count + 8);
            var output = new BlockDecoder(model).Generate(generateState, batch, new DecodeLimits(4, 4));
            // Identical ids are promised where the reference's top-2 margin exceeds 1e-3 (00-design.md §3):
            // compare step by step up to the first choice closer than that.
            var expected = text.Concat(actions.Skip(1)).ToArray();
            var actual = output.TextIds.Concat(output.ActionIds.Skip(1)).ToArray();
            for (int step = 0; step < margins.Count; step++)
            {
                if (margins[step] < 1e-3)
                    break;
                Assert.True(step < actual.Length && actual[step] == expected[step],
                    $"{context}: step {step}: engine {string.Join(",", actual)} vs reference {string.Join(",", expected)}");
            }
        }
    }

    /// <summary>A block-like sequence: prompt, audio rows, an image, text, actions, ending in bot.</summary>
    private static List<(int, float[]?)> RandomSequence(RandomCheckpoint model, Random random)
    {
        var t = model.Tokens;
        var sequence = new List<(int, float[]?)>();
        void Ids(params int[] ids) => sequence.AddRange(ids.Select(id => (id, (float[]?)null)));
        void Audio(int n)
        {
            for (int i = 0; i < n; i++)
                sequence.Add((-1, Enumerable.Range(0, model.Hidden).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray()));
        }
        if (random.Next(2) == 0)
            Audio(2);
        Ids(t["bop"], random.Next(90), random.Next(90), t["eop"], t["bos"]);
        Audio(3);
        Ids(t["speech_eos"], t["boi"], t["visual_base"] + random.Next(16), t["visual_base"] + random.Next(16), t["eoi"]);
        Ids(t["bot"], random.Next(90), t["eot"], t["boa"], random.Next(t["action_first"], t["action_last"] + 1), t["eoa"]);
        Ids(t["bos"]);
        Audio(2);
        Ids(t["speech_eos"], t["bot"]);
        if (model.Speech.Spec.Extra > 0)
            sequence.Insert(sequence.Count - 1, (model.Speech.Spec.Vocab, null)); // an extra-row id
        return sequence;
    }
}
