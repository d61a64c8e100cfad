using Ellsa.Runtime.Codecs.SpeechOut;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// RAS sampling: its nucleus sets against the authors' (ras.* of lm.safetensors: THEIR nucleus_sampling
/// on three score rows) and against a LINQ restatement on fresh random scores; its draws against the
/// distribution the authors' code draws from (the kept ids' renormalised probabilities, and the
/// repetition fallback to the full softmax), and sampling_ids' EOS redraws and give-up.
/// </summary>
public sealed class RasSamplerTests
{
    private static readonly SpeechLmSamplingConfig Release = new();

    [Theory]
    [InlineData("small")]
    [InlineData("wide")]
    public void NucleusSetsAreTheAuthors(string config)
    {
        using var golden = SpeechLmGoldens.Lm(config);
        var rows = golden.Floats("ras.rows");
        var keptIds = golden.Ints("ras.kept_ids");
        var keptProbs = golden.Floats("ras.kept_probs");
        int n = (int)golden.Shape("ras.rows")[1];
        int k = (int)golden.Shape("ras.kept_ids")[1];
        for (int r = 0; r < 3; r++)
        {
            var probabilities = new double[n];
            RasSampler.Softmax(rows.AsSpan(r * n, n), probabilities);
            var order = new int[n];
            int kept = RasSampler.Nucleus(probabilities, Release.TopP, Release.TopK, order);
            var expected = keptIds.AsSpan(r * k, k).ToArray().TakeWhile(id => id >= 0).ToArray();
            Assert.Equal(expected, order.Take(kept));
            for (int i = 0; i < kept; i++)
                Assert.True(Math.Abs(probabilities[order[i]] - keptProbs[r * k + i]) <= 1e-6 * keptProbs[r * k], $"row {r}, kept {i}: {probabilities[order[i]]} vs {keptProbs[r * k + i]}");
        }
    }

    [Fact]
    public void NucleusSetsMatchAPlainRestatementOnFreshScores()
    {
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = random.Next(1, 400);
            double scale = Math.Exp(random.NextDouble() * 6 - 3);
            var scores = new float[n];
            for (int i = 0; i < n; i++)
                scores[i] = (float)(scale * NextGaussian(random));
            // Ties, which the authors' stable sort breaks towards the lower id.
            for (int t = random.Next(0, n / 4 + 1); t > 0; t--)
                scores[random.Next(n)] = scores[random.Next(n)];
            double topP = random.NextDouble();
            int topK = random.Next(1, 40);

            var probabilities = new double[n];
            RasSampler.Softmax(scores, probabilities);
            var order = new int[n];
            int kept = RasSampler.Nucleus(probabilities, topP, topK, order);
            var expected = PlainNucleus(scores, topP, topK);
            Assert.True(expected.SequenceEqual(order.Take(kept)),
                $"seed {seed}, trial {trial}: kept [{string.Join(", ", order.Take(kept))}], the restatement keeps [{string.Join(", ", expected)}]");
        }

        static int[] PlainNucleus(float[] scores, double topP, int topK)
        {
            double max = scores.Max();
            var e = scores.Select(s => Math.Exp(s - max)).ToArray();
            double sum = e.Sum();
            var p = e.Select(v => v / sum).ToArray();
            var kept = new List<int>();
            double cumulative = 0;
            foreach (int id in Enumerable.Range(0, scores.Length).OrderByDescending(i => p[i]))
            {
                if (!(cumulative < topP && kept.Count < topK))
                    break;
                cumulative += p[id];
                kept.Add(id);
            }
            return kept.ToArray();
        }
    }

    /// <summary>
    /// The draw's distribution: an id q from the renormalised nucleus, replaced by a draw from the full
    /// softmax p when q occurs in the last win_size decoded tokens, so
    /// P(id) = q(id)·[id not recent] + Σ_{j recent} q(j) · p(id).
    /// </summary>
    [Fact]
    public void DrawsFollowTheNucleusAndTheRepetitionFallback()
    {
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        const int n = 30;
        var scores = new float[n];
        for (int i = 0; i < n; i++)
            scores[i] = (float)(1.5 * NextGaussian(random));
        var p = new double[n];
        RasSampler.Softmax(scores, p);
        var order = new int[n];
        int kept = RasSampler.Nucleus(p, Release.TopP, Release.TopK, order);
        double keptMass = order.Take(kept).Sum(i => p[i]);

        // A window holding some kept ids and, before it, ids that no longer count.
        var recent = order.Take(kept).Where(_ => random.Next(2) == 0).Take(Release.WinSize).ToHashSet();
        var decoded = Enumerable.Range(0, 5).Select(i => order[i % kept]).Concat(Pad(recent, order[kept..], Release.WinSize)).ToList();
        var expected = new double[n];
        double fallback = recent.Sum(j => p[j] / keptMass);
        for (int id = 0; id < n; id++)
            expected[id] = (order.Take(kept).Contains(id) && !recent.Contains(id) ? p[id] / keptMass : 0) + fallback * p[id];

        var sampler = new RasSampler(Release, new Random(seed + 1));
        const int draws = 40000;
        var counts = new int[n];
        for (int i = 0; i < draws; i++)
            counts[sampler.Sample(scores, decoded)]++;
        for (int id = 0; id < n; id++)
        {
            double sigma = Math.Sqrt(draws * expected[id] * (1 - expected[id]));
            Assert.True(Math.Abs(counts[id] - draws * expected[id]) <= 5 * sigma + 1e-9,
                $"seed {seed}: id {id} drawn {counts[id]} times, expected {draws * expected[id]:F1} ± {sigma:F1}");
        }

        static IEnumerable<int> Pad(HashSet<int> recent, int[] others, int window)
        {
            var list = recent.ToList();
            for (int i = 0; list.Count < window; i++)
                list.Add(others[i % others.Length]);
            return list;
        }
    }

    [Fact]
    public void SamplingIdsRedrawsEosUntilMaxTrialsThenGivesUp()
    {
        const int eos = 5;
        var scores = new float[8];
        scores[eos] = 40; // EOS holds all but e^-40 of the mass.
        var counting = new CountingRandom(7);
        var sampler = new RasSampler(Release, counting);
        Assert.False(sampler.TrySampleIds(scores, [], eos, ignoreEos: true, out _));
        // One draw and max_trials (50) redraws, each a single nucleus draw: no repetition to fall back on.
        Assert.Equal(1 + SpeechLmSamplingConfig.MaxTrials, counting.Draws);
        Assert.True(sampler.TrySampleIds(scores, [], eos, ignoreEos: false, out int id));
        Assert.Equal(eos, id);

        // With EOS likely but not certain, the redraws find another id.
        scores[eos] = 1;
        sampler = new RasSampler(Release, new Random(Random.Shared.Next()));
        for (int i = 0; i < 200; i++)
        {
            Assert.True(sampler.TrySampleIds(scores, [], eos, ignoreEos: true, out id));
            Assert.NotEqual(eos, id);
        }
    }

    private static double NextGaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private sealed class CountingRandom(int seed) : Random(seed)
    {
        public int Draws { get; private set; }

        public override double NextDouble()
        {
            Draws++;
            return base.NextDouble();
        }
    }
}
