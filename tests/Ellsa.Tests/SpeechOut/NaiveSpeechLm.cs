using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// The speech LM written as the authors run it, in double precision from <see cref="RandomSpeechLm"/>'s
/// stored values: generator_proj, the Qwen2 body through <see cref="NaiveSaMoe"/>'s forward (one expert,
/// every position recomputed from scratch), and a line-by-line transcription of the evaluation's driver
/// and <c>inference_salmonn_stream</c> (ev:L204-234, cv/llm/llm.py:L635-779): every call rebuilds its
/// lm_input and recomputes it from position 0, and a fill id restores the previous cache.
/// </summary>
public static class NaiveSpeechLm
{
    /// <param name="EosRedraws">EOS draws sampling_ids rejected before min_len.</param>
    /// <param name="Fills">Fill ids drawn in the final phase (each rolled back).</param>
    public sealed record Result(List<int> Tokens, List<SpeechLmCall> Calls, bool Abandoned, int EosRedraws, int Fills);

    public static double[] Project(RandomSpeechLm m, float[] hidden)
    {
        var inner = Add(MatVec(m.ProjIn, hidden.Select(v => (double)v).ToArray()), m.ProjInBias).Select(v => Math.Max(v, 0)).ToArray();
        var x = Add(MatVec(m.ProjOut, inner), m.ProjOutBias);
        double mean = x.Average();
        double variance = x.Select(v => (v - mean) * (v - mean)).Average();
        double scale = 1 / Math.Sqrt(variance + m.Projection.LayerNormEps);
        return x.Select((v, i) => (v - mean) * scale * m.ProjNormWeight[i] + m.ProjNormBias[i]).ToArray();
    }

    /// <summary>llm_decoder's logits at the last of <paramref name="context"/>'s rows.</summary>
    public static double[] Logits(RandomSpeechLm m, IReadOnlyList<double[]> context)
    {
        var residuals = NaiveSaMoe.Residuals(m.Geometry, context.Select(row => (row, m.Body)).ToList());
        return Add(NaiveSaMoe.Logits(m.Body, m.Body, residuals[^1]), m.HeadBias);
    }

    /// <summary>The driver over one segment's hidden rows, drawing with <paramref name="sampler"/>.</summary>
    public static Result Drive(RandomSpeechLm m, IReadOnlyList<float[]> hidden, RasSampler sampler)
    {
        var c = m.Config;
        var feature = hidden.Select(h => Project(m, h)).ToList();
        var generated = new List<int>();
        var calls = new List<SpeechLmCall>();
        var counts = new Counts();
        List<double[]>? embeddedY = null;
        int textIdxNum = 0, endIdx = c.TextChunk;
        bool final = false;
        while (!final)
        {
            var text = feature.Take(endIdx).ToList();
            int before = generated.Count;
            try
            {
                (embeddedY, final) = InferenceSalmonnStream(m, text, embeddedY, textIdxNum, generated, sampler, counts);
            }
            catch (MaxTrialsException)
            {
                return new Result(generated, calls, Abandoned: true, counts.EosRedraws, counts.Fills);
            }
            calls.Add(new SpeechLmCall(text.Count, generated.Count - before, final));
            textIdxNum += c.TextChunk;
            endIdx += c.TextChunk;
            if (endIdx > 100)
                final = true;
        }
        return new Result(generated, calls, Abandoned: false, counts.EosRedraws, counts.Fills);
    }

    private static (List<double[]> LmInput, bool Final) InferenceSalmonnStream(RandomSpeechLm m, List<double[]> text, List<double[]>? tokenInput,
        int textIdxNum, List<int> generated, RasSampler sampler, Counts counts)
    {
        var c = m.Config;
        int v = c.SpeechTokenSize, textLen = text.Count;
        int minLen = (int)(textLen * 2.0), maxLen = (int)(textLen * 15.0);
        List<double[]> lmInput;
        if (tokenInput is null || textIdxNum < textLen)
        {
            int todo;
            if (tokenInput is null)
            {
                lmInput = [m.Sos, .. text.Skip(textIdxNum).Take(c.TextChunk - textIdxNum)];
                todo = c.AudioChunk;
            }
            else
            {
                int textTodo = Math.Min(c.TextChunk, textLen - textIdxNum);
                lmInput = [.. tokenInput, .. text.Skip(textIdxNum).Take(textTodo)];
                todo = (int)Math.Min(c.AudioChunk, c.Ratio * textTodo);
            }
            var cache = new List<double[]>();
            var step = lmInput.ToList();
            for (int i = 0; i < todo; i++)
            {
                cache.AddRange(step);
                var logp = Logits(m, cache).Take(v).Select(x => (float)x).ToArray();
                int id = SamplingIds(sampler, logp, generated, v, ignoreEos: i < minLen, counts);
                generated.Add(id);
                step = [m.Body.Embedding[id]];
                lmInput.Add(m.Body.Embedding[id]);
            }
            return (lmInput, false);
        }

        lmInput = [.. tokenInput, m.TaskId];
        var kept = new List<double[]>();
        int alreadyDecoded = (int)(tokenInput.Count * (1 - 1 / (1 + c.Ratio)));
        for (int i = 0; i < maxLen - alreadyDecoded; i++)
        {
            var lastCache = kept.ToList();
            kept.AddRange(lmInput);
            var logp = Logits(m, kept).Select(x => (float)x).ToArray();
            int id = SamplingIds(sampler, logp, generated, v, ignoreEos: i < minLen, counts);
            if (id == v)
                return (lmInput, true);
            if (id > v)
            {
                counts.Fills++;
                kept = lastCache;
                continue;
            }
            generated.Add(id);
            lmInput = [m.Body.Embedding[id]];
            if (i == maxLen - alreadyDecoded - 1)
                return (lmInput, true);
        }
        return (lmInput, false);
    }

    /// <summary>sampling_ids (llm.py:L142-157): ras_sampling again while it gives EOS and EOS is ignored, RuntimeError after 50 redraws.</summary>
    private static int SamplingIds(RasSampler sampler, float[] scores, List<int> generated, int eos, bool ignoreEos, Counts counts)
    {
        int numTrials = 0, maxTrials = 50;
        while (true)
        {
            int topIds = sampler.Sample(scores, generated);
            if (!ignoreEos || topIds != eos)
                return topIds;
            numTrials++;
            counts.EosRedraws++;
            if (numTrials > maxTrials)
                throw new MaxTrialsException();
        }
    }

    private sealed class Counts
    {
        public int EosRedraws;
        public int Fills;
    }

    private sealed class MaxTrialsException : Exception;

    private static double[] MatVec(double[][] w, double[] x) => w.Select(row => row.Select((value, i) => value * x[i]).Sum()).ToArray();

    private static double[] Add(double[] a, double[] b) => a.Select((value, i) => value + b[i]).ToArray();
}
