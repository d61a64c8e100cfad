using Ellsa.Runtime.Moe;

namespace Ellsa.Tests.Support;

/// <summary>
/// The SA-MoE forward written as plainly as possible in double precision from 01-model.md: no KV
/// cache, no grouping, no fusion, each position recomputed from scratch. Slow, and independent
/// of the engine's loader and kernels: it reads the values <see cref="RandomCheckpoint"/> drew.
/// Its core takes any number of experts (the speech-token LM is one: <see cref="SpeechOut.NaiveSpeechLm"/>).
/// </summary>
public static class NaiveSaMoe
{
    /// <summary>A position: a token id or a spliced embedding row, and the expert it runs through.</summary>
    public readonly record struct Item(int Id, float[]? Embedding, bool Vision);

    /// <summary>The engine's batch of the same positions (an id, or an embedding row where one is given).</summary>
    public static TokenBatch Batch(IEnumerable<(int Id, float[]? Embedding)> positions)
    {
        var batch = new TokenBatch();
        foreach (var (id, embedding) in positions)
        {
            if (embedding is null)
                batch.AddId(id);
            else
                batch.AddEmbedding(embedding);
        }
        return batch;
    }

    /// <summary>The marker rule, restated: bos/bot open speech, boi/boa open vision, speech before any marker.</summary>
    public static List<Item> Route(RandomCheckpoint model, IEnumerable<(int Id, float[]? Embedding)> positions)
    {
        bool vision = false;
        var items = new List<Item>();
        foreach (var (id, embedding) in positions)
        {
            if (embedding is null)
            {
                if (id == model.Tokens["bos"] || id == model.Tokens["bot"])
                    vision = false;
                else if (id == model.Tokens["boi"] || id == model.Tokens["boa"])
                    vision = true;
            }
            items.Add(new Item(id, embedding, vision));
        }
        return items;
    }

    /// <summary>The final residual stream (before the final norm) of every position.</summary>
    public static double[][] Residuals(RandomCheckpoint model, IReadOnlyList<Item> items) =>
        Residuals(new Geometry(model.LayersCount, model.Heads, model.KvHeads, model.HeadDim), items.Select(item =>
        {
            var expert = Of(model, item);
            return (item.Embedding is { } e ? e.Select(v => (double)v).ToArray() : expert.Embedding[item.Id], expert);
        }).ToList());

    /// <summary>The attention geometry every expert shares.</summary>
    public readonly record struct Geometry(int Layers, int Heads, int KvHeads, int HeadDim);

    /// <summary>
    /// The forward of N experts: each position brings its input row (a spliced embedding, or its id's
    /// table row) and the expert whose weights it runs through; returns the final residual stream.
    /// </summary>
    public static double[][] Residuals(Geometry geometry, IReadOnlyList<(double[] Input, RandomCheckpoint.Expert Expert)> positions)
    {
        int n = positions.Count, hd = geometry.HeadDim, group = geometry.Heads / geometry.KvHeads;
        var x = positions.Select(p => (double[])p.Input.Clone()).ToArray();
        for (int l = 0; l < geometry.Layers; l++)
        {
            var q = new double[n][];
            var k = new double[n][];
            var v = new double[n][];
            for (int i = 0; i < n; i++)
            {
                var expert = positions[i].Expert;
                var layer = expert.Layers[l];
                var h = Norm(x[i], layer.InputNorm, expert.Spec.Eps);
                q[i] = Rope(Add(MatVec(layer.Q, h), layer.QBias), i, hd, Frequencies(hd, expert.Spec));
                k[i] = Rope(Add(MatVec(layer.K, h), layer.KBias), i, hd, Frequencies(hd, expert.Spec));
                v[i] = Add(MatVec(layer.V, h), layer.VBias);
            }
            for (int i = 0; i < n; i++)
            {
                var attention = new double[geometry.Heads * hd];
                for (int head = 0; head < geometry.Heads; head++)
                {
                    int kvHead = head / group;
                    var scores = new double[i + 1];
                    for (int j = 0; j <= i; j++)
                    {
                        double s = 0;
                        for (int c = 0; c < hd; c++)
                            s += q[i][head * hd + c] * k[j][kvHead * hd + c];
                        scores[j] = s / Math.Sqrt(hd);
                    }
                    double max = scores.Max();
                    double sum = scores.Sum(s => Math.Exp(s - max));
                    for (int j = 0; j <= i; j++)
                    {
                        double p = Math.Exp(scores[j] - max) / sum;
                        for (int c = 0; c < hd; c++)
                            attention[head * hd + c] += p * v[j][kvHead * hd + c];
                    }
                }
                var expert = positions[i].Expert;
                var layer = expert.Layers[l];
                var residual = Add(x[i], MatVec(layer.O, attention));
                var h = Norm(residual, layer.PostNorm, expert.Spec.Eps);
                var gate = MatVec(layer.Gate, h);
                var up = MatVec(layer.Up, h);
                var act = gate.Select((g, c) => g / (1 + Math.Exp(-g)) * up[c]).ToArray();
                x[i] = Add(residual, MatVec(layer.Down, act));
            }
        }
        return x;
    }

    /// <summary>Logits of a position's residual: <paramref name="normBy"/>'s final norm, then <paramref name="head"/>'s projection.</summary>
    public static double[] Logits(RandomCheckpoint model, double[] residual, bool normByVision, bool headVision)
    {
        var norm = normByVision ? model.Vision : model.Speech;
        var head = headVision ? model.Vision : model.Speech;
        return Logits(norm, head, residual);
    }

    /// <summary>Logits of a residual: <paramref name="norm"/>'s final norm, then <paramref name="head"/>'s projection.</summary>
    public static double[] Logits(RandomCheckpoint.Expert norm, RandomCheckpoint.Expert head, double[] residual) =>
        MatVec(head.Head, Norm(residual, norm.FinalNorm, norm.Spec.Eps));

    /// <summary>
    /// The block decode of 00-design.md §5, by recomputing the whole sequence at every step. Also
    /// returns each greedy choice's top-2 margin: ids are only promised where it exceeds 1e-3.
    /// With <paramref name="hidden"/>, also the speech decoder's rows by the authors' rule
    /// (emu:L3436-3488): the final-normed state that produced each text token but an eot after the
    /// first, none when the first token is silence.
    /// </summary>
    public static (int[] Text, int[] Actions, List<double> Margins) Generate(RandomCheckpoint model, List<Item> items, int maxText, int maxAction,
        List<double[]>? hidden = null)
    {
        var t = model.Tokens;
        var margins = new List<double>();
        double[] lastNormed = [];
        int Next(bool headVision, Func<int, bool> allowed)
        {
            var last = Residuals(model, items)[^1];
            var norm = items[^1].Vision ? model.Vision : model.Speech;
            lastNormed = Norm(last, norm.FinalNorm, norm.Spec.Eps);
            var logits = Logits(model, last, items[^1].Vision, headVision);
            int best = -1;
            double second = double.NegativeInfinity;
            for (int id = 0; id < logits.Length; id++)
            {
                if (!allowed(id))
                    continue;
                if (best < 0 || logits[id] > logits[best])
                {
                    if (best >= 0)
                        second = Math.Max(second, logits[best]);
                    best = id;
                }
                else
                {
                    second = Math.Max(second, logits[id]);
                }
            }
            margins.Add(logits[best] - second);
            return best;
        }

        var text = new List<int> { Next(false, _ => true) };
        hidden?.Add(lastNormed);
        for (int i = 1; i < maxText; i++)
        {
            items.Add(new Item(text[^1], null, false));
            text.Add(Next(false, _ => true));
            if (text[^1] == t["eot"])
                break;
            hidden?.Add(lastNormed);
        }
        if (text[0] == t["silence"])
            hidden?.Clear();
        items.Add(new Item(text[^1], null, false));
        var actions = new List<int> { t["boa"] };
        for (int i = 1; i < maxAction; i++)
        {
            items.Add(new Item(actions[^1], null, true));
            actions.Add(Next(true, id => (id >= t["action_first"] && id <= t["action_last"]) || id == t["eoa"]));
            if (actions[^1] == t["eoa"])
                break;
        }
        return (text.ToArray(), actions.ToArray(), margins);
    }

    private static RandomCheckpoint.Expert Of(RandomCheckpoint model, Item item) => item.Vision ? model.Vision : model.Speech;

    private static double[] Frequencies(int hd, RandomCheckpoint.ExpertSpec spec)
    {
        var f = new double[hd / 2];
        for (int i = 0; i < f.Length; i++)
        {
            f[i] = Math.Pow(spec.Theta, -2.0 * i / hd);
            if (spec.Llama3 is not { } s)
                continue;
            double wavelength = 2 * Math.PI / f[i];
            if (wavelength > s.Original / s.Low)
                f[i] /= s.Factor;
            else if (wavelength >= s.Original / s.High)
            {
                double smooth = (s.Original / wavelength - s.Low) / (s.High - s.Low);
                f[i] = (1 - smooth) * f[i] / s.Factor + smooth * f[i];
            }
        }
        return f;
    }

    private static double[] Rope(double[] x, int position, int hd, double[] frequencies)
    {
        var y = (double[])x.Clone();
        for (int head = 0; head < x.Length / hd; head++)
        {
            for (int i = 0; i < hd / 2; i++)
            {
                double a = x[head * hd + i], b = x[head * hd + i + hd / 2];
                double angle = position * frequencies[i];
                y[head * hd + i] = a * Math.Cos(angle) - b * Math.Sin(angle);
                y[head * hd + i + hd / 2] = b * Math.Cos(angle) + a * Math.Sin(angle);
            }
        }
        return y;
    }

    private static double[] Norm(double[] x, double[] weight, double eps)
    {
        double scale = 1 / Math.Sqrt(x.Sum(v => v * v) / x.Length + eps);
        return x.Select((v, i) => v * scale * weight[i]).ToArray();
    }

    private static double[] MatVec(double[][] w, double[] x) =>
        w.Select(row => row.Select((v, i) => v * x[i]).Sum()).ToArray();

    private static double[] Add(double[] a, double[]? b) => b is null ? a : a.Select((v, i) => v + b[i]).ToArray();
}
