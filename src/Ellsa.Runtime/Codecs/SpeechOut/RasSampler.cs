namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// CosyVoice2's repetition-aware sampling (VALL-E 2's RAS: <c>ras_sampling</c>, cv/utils/common.py:L109-137)
/// and <c>sampling_ids</c>' EOS redraws (cv/llm/llm.py:L142-157), with a seedable generator in place of
/// PyTorch's (whose draws an engine cannot reproduce; the distributions are the same). Written by hand:
/// it is a dozen lines of the authors' Python, and no library samples this way.
/// </summary>
/// <remarks>
/// The scores are the choosable ids' logits or log-probabilities (softmax makes them the same): the
/// first V in the interleaved phase, all V+3 in the final one. Probabilities are computed in double.
/// The nucleus keeps ids in descending probability order (ties to the lower id, as the authors'
/// stable sort) while the kept mass is below top_p and fewer than top_k are kept, so the id that
/// crosses top_p is kept; one id is drawn from the kept ids' un-normalised probabilities. If that id
/// occurs at least win_size·tau_r times among the last win_size decoded tokens, the draw is replaced
/// by one from the full distribution of the scores.
/// </remarks>
public sealed class RasSampler(SpeechLmSamplingConfig config, Random random)
{
    private double[] _probabilities = [];
    private int[] _order = [];

    public SpeechLmSamplingConfig Config => config;

    /// <summary>
    /// sampling_ids: ras_sampling, drawn again while it gives <paramref name="eos"/> and
    /// <paramref name="ignoreEos"/> holds. False when the draw is still EOS after
    /// <see cref="SpeechLmSamplingConfig.MaxTrials"/> redraws, where the authors raise RuntimeError.
    /// </summary>
    public bool TrySampleIds(ReadOnlySpan<float> scores, IReadOnlyList<int> decoded, int eos, bool ignoreEos, out int id)
    {
        for (int trials = 0; ; trials++)
        {
            id = Sample(scores, decoded);
            if (!ignoreEos || id != eos)
                return true;
            if (trials == SpeechLmSamplingConfig.MaxTrials)
                return false;
        }
    }

    /// <summary>ras_sampling: one id drawn from <paramref name="scores"/> given the tokens decoded so far.</summary>
    public int Sample(ReadOnlySpan<float> scores, IReadOnlyList<int> decoded)
    {
        int n = scores.Length;
        if (n == 0)
            throw new ArgumentException("ras_sampling needs at least one score");
        if (_probabilities.Length != n)
        {
            _probabilities = new double[n];
            _order = new int[n];
        }
        Softmax(scores, _probabilities);
        int kept = Nucleus(_probabilities, config.TopP, config.TopK, _order);
        double keptMass = 0;
        for (int i = 0; i < kept; i++)
            keptMass += _probabilities[_order[i]];
        int id = Draw(_probabilities, _order.AsSpan(0, kept), keptMass);
        if (Repeats(id, decoded) >= config.WinSize * config.TauR)
            id = Draw(_probabilities, default, 1.0);
        return id;
    }

    /// <summary>
    /// nucleus_sampling's kept set: writes the kept ids to the front of <paramref name="order"/> in
    /// descending probability order (ties to the lower id) and returns how many there are.
    /// </summary>
    public static int Nucleus(double[] probabilities, double topP, int topK, int[] order)
    {
        int n = probabilities.Length;
        for (int i = 0; i < n; i++)
            order[i] = i;
        order.AsSpan(0, n).Sort((a, b) => probabilities[a] != probabilities[b] ? probabilities[b].CompareTo(probabilities[a]) : a.CompareTo(b));
        double cumulative = 0;
        int kept = 0;
        while (kept < n && cumulative < topP && kept < topK)
            cumulative += probabilities[order[kept++]];
        return kept;
    }

    /// <summary>softmax in double: exp(s − max) / Σ.</summary>
    public static void Softmax(ReadOnlySpan<float> scores, Span<double> probabilities)
    {
        double max = double.NegativeInfinity;
        foreach (float s in scores)
            max = Math.Max(max, s);
        double sum = 0;
        for (int i = 0; i < scores.Length; i++)
            sum += probabilities[i] = Math.Exp(scores[i] - max);
        for (int i = 0; i < scores.Length; i++)
            probabilities[i] /= sum;
    }

    /// <summary>How often <paramref name="id"/> occurs in <c>decoded[-win_size:]</c> (Python's slice: all of it when win_size is 0).</summary>
    private int Repeats(int id, IReadOnlyList<int> decoded)
    {
        int from = config.WinSize == 0 ? 0 : Math.Max(0, decoded.Count - config.WinSize);
        int count = 0;
        for (int i = from; i < decoded.Count; i++)
        {
            if (decoded[i] == id)
                count++;
        }
        return count;
    }

    /// <summary>
    /// An id drawn with weight probabilities[id] out of <paramref name="total"/>, among <paramref name="ids"/>
    /// (in their order) or, when that is empty, among all ids.
    /// </summary>
    private int Draw(double[] probabilities, ReadOnlySpan<int> ids, double total)
    {
        int count = ids.IsEmpty ? probabilities.Length : ids.Length;
        double u = random.NextDouble() * total;
        double cumulative = 0;
        int last = -1;
        for (int i = 0; i < count; i++)
        {
            int id = ids.IsEmpty ? i : ids[i];
            if (probabilities[id] <= 0)
                continue;
            cumulative += probabilities[id];
            last = id;
            if (u < cumulative)
                return id;
        }
        // u fell in the rounding gap between the summed weights and total: the last id with weight.
        return last >= 0 ? last : (ids.IsEmpty ? 0 : ids[0]);
    }
}
