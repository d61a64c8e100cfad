using System.Buffers;
using System.Collections.Immutable;
using System.Text;
using Ellsa.Runtime.Codecs.Text;
using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.Fast;

/// <summary>
/// The FAST action codec (02-protocol.md §3): a [T, D] chunk ↔ DCT-II ortho along time, ×scale,
/// rounded to integers q, one character chr(q − min_token) per coefficient (k-major), byte-level
/// BPE ids. Decoding follows the reference step by step but refuses what the reference would turn
/// into a wild motion (unknown ids, invalid UTF-8, a chunk that does not fit, coefficients beyond
/// what normalised actions can produce): those come back as the safe no-op chunk with the reasons.
/// Immutable after loading; safe to share between threads.
/// </summary>
public sealed class FastActionCodec
{
    /// <summary>
    /// Slack, in quantisation steps, above the largest coefficient that normalised actions can
    /// produce. A DCT-II ortho row has unit L2 norm, so by Cauchy-Schwarz |coefficient| ≤ √T for
    /// actions in [−1, 1]; ×scale and rounded that is ceil(√T·scale) (32 for T = 10, scale 10).
    /// 8 steps more (→ 40, the value 02-protocol.md §3.3 suggests) accept any chunk the model could
    /// plausibly mean while still bounding a decoded action to a few units.
    /// </summary>
    public const int CoefficientBoundSlack = 8;

    private const double NormalisedTolerance = 1e-6;

    private readonly OrthoDct dct;
    private readonly float[,] safeNormalized;
    private readonly float[,]? safeActions;
    private readonly ImmutableArray<int>? noOpIds;

    private FastActionCodec(string assetsDir, TextTokenizer tokenizer, FastProcessorConfig config,
        int timeHorizon, int actionDim, NormStats? normStats)
    {
        AssetsDirectory = assetsDir;
        Tokenizer = tokenizer;
        Scale = config.Scale;
        MinToken = config.MinToken;
        VocabSize = config.VocabSize;
        TimeHorizon = timeHorizon;
        ActionDim = actionDim;
        NormStats = normStats;
        MaxAbsCoefficient = MaxAbsCoefficientFor(timeHorizon, Scale);
        dct = new OrthoDct(timeHorizon);
        if (normStats is null)
        {
            safeNormalized = new float[timeHorizon, actionDim];
            return;
        }
        var noOpEnv = NoOpEnvironmentChunk();
        var noOpNormalized = NormalizeCore(noOpEnv);
        safeNormalized = ToMatrix(noOpNormalized);
        safeActions = ToMatrix(noOpEnv);
        noOpIds = [.. EncodeCore(noOpNormalized)];
    }

    public string AssetsDirectory { get; }

    /// <summary>The byte-level BPE over the assets' tokenizer.json.</summary>
    public TextTokenizer Tokenizer { get; }

    public double Scale { get; }

    public int MinToken { get; }

    /// <summary>FAST ids are 0..VocabSize−1 (processor_config.json vocab_size, checked against
    /// tokenizer.json at load).</summary>
    public int VocabSize { get; }

    public int TimeHorizon { get; }

    public int ActionDim { get; }

    public NormStats? NormStats { get; }

    public bool HasNormStats => NormStats is not null;

    /// <summary>The largest |q| a decoded coefficient may have (see <see cref="CoefficientBoundSlack"/>).</summary>
    public int MaxAbsCoefficient { get; }

    /// <summary>
    /// The ids of the no-op chunk (env action [0, …, 0, −1] on every row, normalised with the
    /// stats): the constant "dummy action" the reference puts in speech-only history
    /// (02-protocol.md §1.4, §3.6). Computed from the assets.
    /// </summary>
    /// <exception cref="InvalidOperationException">The codec was loaded without norm stats.</exception>
    public ImmutableArray<int> NoOpIds => noOpIds
        ?? throw new InvalidOperationException($"the FAST no-op ids need norm stats; load {AssetsDirectory} with FastCodecOptions.NormStatsPath");

    /// <summary>Loads tokenizer.json and processor_config.json from <paramref name="assetsDir"/>,
    /// and the norm stats named in <paramref name="options"/>.</summary>
    /// <exception cref="FastCodecException">Missing or inconsistent assets, named by file and field.</exception>
    /// <exception cref="TokenizerException">An unusable tokenizer.json.</exception>
    public static FastActionCodec Load(string assetsDir, FastCodecOptions? options = null)
    {
        options ??= new FastCodecOptions();
        if (!Directory.Exists(assetsDir))
        {
            throw new FastCodecException($"{assetsDir}: FAST assets directory not found");
        }
        string configPath = Path.Combine(assetsDir, "processor_config.json");
        var config = FastProcessorConfig.Load(configPath);
        var tokenizer = TextTokenizer.Load(Path.Combine(assetsDir, "tokenizer.json"));
        if (tokenizer.IdCount != config.VocabSize)
        {
            throw new FastCodecException(
                $"{configPath}: vocab_size: {config.VocabSize} disagrees with {tokenizer.SourcePath}, which has ids 0..{tokenizer.IdCount - 1}");
        }
        int timeHorizon = options.TimeHorizon ?? config.TimeHorizon ?? FastCodecOptions.DefaultTimeHorizon;
        int actionDim = options.ActionDim ?? config.ActionDim ?? FastCodecOptions.DefaultActionDim;
        if (timeHorizon <= 0 || actionDim <= 0 || timeHorizon > ConfigBounds.MaxTimeHorizon || actionDim > ConfigBounds.MaxActionDim)
        {
            throw new FastCodecException(
                $"FAST chunk shape {timeHorizon}×{actionDim} (options or {configPath}): time_horizon must be in 1..{ConfigBounds.MaxTimeHorizon} and action_dim in 1..{ConfigBounds.MaxActionDim}");
        }
        CheckMinToken(config.MinToken, configPath, MaxAbsCoefficientFor(timeHorizon, config.Scale));
        NormStats? stats = null;
        if (options.NormStatsPath is not null)
        {
            stats = NormStats.Load(options.NormStatsPath, options.NormStatsKey);
            if (stats.Dimension != actionDim)
            {
                throw new FastCodecException(
                    $"{stats.SourcePath}: norm_stats.{stats.Key}: has {stats.Dimension} dimensions, the FAST chunks have action_dim {actionDim}");
            }
        }
        return new FastActionCodec(assetsDir, tokenizer, config, timeHorizon, actionDim, stats);
    }

    private static int MaxAbsCoefficientFor(int timeHorizon, double scale) =>
        (int)Math.Min(Math.Ceiling(Math.Sqrt(timeHorizon) * scale) + CoefficientBoundSlack, int.MaxValue / 2);

    /// <summary>
    /// A coefficient q is written as the character q − min_token. A min_token that maps every
    /// coefficient normalised actions can produce (±maxAbs) past the last code point, or puts them
    /// all below zero, can only have been mistyped.
    /// </summary>
    private static void CheckMinToken(int minToken, string configPath, int maxAbs)
    {
        long low = (long)maxAbs - UnicodeMax;
        if (minToken < low || minToken > maxAbs)
        {
            throw new FastCodecException(
                $"{configPath}: min_token: must be in {low}..{maxAbs} so that coefficients within ±{maxAbs} map to characters, found {minToken}");
        }
    }

    private const int UnicodeMax = 0x10FFFF;

    /// <summary>
    /// FAST ids (BPE ids, 0..VocabSize−1, without boa/eoa) to a chunk. Never throws for bad ids:
    /// it returns the safe no-op chunk (with norm stats: normalised no-op and env rows exactly
    /// [0, …, 0, −1]; without: zeros) and says why in <see cref="FastDecodeResult.Problems"/>.
    /// </summary>
    public FastDecodeResult Decode(ReadOnlySpan<int> fastIds)
    {
        var problems = new List<string>();
        if (fastIds.IsEmpty)
        {
            problems.Add("no FAST ids: the action chunk is empty (the reference would decode it to all-zero normalised actions, not a no-op)");
        }
        CheckIds(fastIds, problems);
        if (problems.Count > 0)
        {
            return SafeChunk(problems, 0);
        }

        var coefficients = DecodeCoefficients(Tokenizer.DecodeToBytes(fastIds), problems);
        if (problems.Count > 0)
        {
            return SafeChunk(problems, coefficients.Count);
        }
        int size = TimeHorizon * ActionDim;
        var scaled = new double[size];
        for (int i = 0; i < coefficients.Count; i++)
        {
            scaled[i] = coefficients[i] / Scale;
        }
        var normalized = new double[size];
        dct.Inverse(scaled, normalized, ActionDim);
        return new FastDecodeResult
        {
            Normalized = ToMatrix(normalized),
            Actions = NormStats is null ? null : ToMatrix(DenormalizeCore(normalized)),
            Problems = problems,
            CoefficientCount = coefficients.Count,
        };
    }

    /// <summary>A [T, D] chunk in normalised units (each value in [−1, 1]) to FAST ids.</summary>
    /// <exception cref="FastCodecException">Wrong shape, or a value that is not finite or lies
    /// outside [−1, 1] (named by row and column).</exception>
    public int[] Encode(float[,] normalized)
    {
        var values = Flatten(normalized, "normalised actions");
        for (int i = 0; i < values.Length; i++)
        {
            if (!(Math.Abs(values[i]) <= 1 + NormalisedTolerance))
            {
                throw new FastCodecException(
                    $"normalised action [row {i / ActionDim}, column {i % ActionDim}] = {values[i]} is outside [-1, 1] (training clips normalised actions there)");
            }
        }
        return EncodeCore(values);
    }

    /// <summary>A [T, D] chunk in environment units to FAST ids, normalised as in training:
    /// clip(2·(a − q01)/(q99 − q01 + 1e−8) − 1, −1, 1).</summary>
    /// <exception cref="InvalidOperationException">No norm stats were loaded.</exception>
    /// <exception cref="FastCodecException">Wrong shape or a non-finite value.</exception>
    public int[] EncodeEnvActions(float[,] envActions) =>
        EncodeCore(NormalizeCore(Flatten(envActions, "env actions")));

    /// <summary>Environment units to normalised units (the training normalisation, clipped).</summary>
    public float[,] Normalize(float[,] envActions) =>
        ToMatrix(NormalizeCore(Flatten(envActions, "env actions")));

    /// <summary>Normalised units to environment units, unclipped, gripper binarised to ±1.</summary>
    public float[,] Denormalize(float[,] normalized) =>
        ToMatrix(DenormalizeCore(Flatten(normalized, "normalised actions")));

    private void CheckIds(ReadOnlySpan<int> ids, List<string> problems)
    {
        var bad = new List<string>();
        int badCount = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            if (ids[i] < 0 || ids[i] >= VocabSize || !Tokenizer.ContainsId(ids[i]))
            {
                if (badCount++ < 5)
                {
                    bad.Add($"{ids[i]} at position {i}");
                }
            }
        }
        if (badCount > 0)
        {
            string more = badCount > bad.Count ? $" and {badCount - bad.Count} more" : "";
            problems.Add($"FAST ids outside the vocabulary 0..{VocabSize - 1} of {Tokenizer.SourcePath}: {string.Join(", ", bad)}{more}");
        }
    }

    /// <summary>The reference reads the BPE text one code point per coefficient
    /// (q = ord(c) + min_token) after a lossy UTF-8 decode; the same here, with the checks.</summary>
    private List<int> DecodeCoefficients(ReadOnlySpan<byte> bytes, List<string> problems)
    {
        var q = new List<int>(TimeHorizon * ActionDim);
        int firstInvalid = -1;
        for (int offset = 0; offset < bytes.Length;)
        {
            var status = Rune.DecodeFromUtf8(bytes[offset..], out var rune, out int used);
            if (status != OperationStatus.Done && firstInvalid < 0)
            {
                firstInvalid = offset;
            }
            q.Add(rune.Value + MinToken);
            offset += used;
        }
        if (firstInvalid >= 0)
        {
            problems.Add($"the FAST ids decode to invalid UTF-8 (first bad byte at offset {firstInvalid}); the reference would read each U+FFFD as coefficient {Rune.ReplacementChar.Value + MinToken}");
        }
        int size = TimeHorizon * ActionDim;
        if (q.Count > size)
        {
            problems.Add($"the FAST ids decode to {q.Count} coefficients, more than T·D = {TimeHorizon}·{ActionDim} = {size}: a chunk that does not fit (the reference would silently truncate it)");
        }
        var outside = Enumerable.Range(0, q.Count).Where(i => Math.Abs(q[i]) > MaxAbsCoefficient).ToList();
        if (outside.Count > 0)
        {
            var shown = outside.Take(3).Select(i => $"q[{i}] (k={i / ActionDim}, d={i % ActionDim}) = {q[i]}");
            string more = outside.Count > 3 ? $" and {outside.Count - 3} more" : "";
            problems.Add($"DCT coefficients beyond ±{MaxAbsCoefficient}, more than normalised actions can produce: {string.Join(", ", shown)}{more}");
        }
        return q;
    }

    private FastDecodeResult SafeChunk(List<string> problems, int coefficientCount) => new()
    {
        Normalized = (float[,])safeNormalized.Clone(),
        Actions = (float[,]?)safeActions?.Clone(),
        Problems = problems,
        CoefficientCount = coefficientCount,
    };

    private int[] EncodeCore(double[] normalized)
    {
        var coefficients = new double[normalized.Length];
        dct.Forward(normalized, coefficients, ActionDim);
        var text = new StringBuilder(coefficients.Length);
        for (int i = 0; i < coefficients.Length; i++)
        {
            // numpy.around rounds half to even, as Math.Round does by default.
            double q = Math.Round(coefficients[i] * Scale, MidpointRounding.ToEven);
            double code = Math.Max(q - MinToken, 0);
            if (code > 0x10FFFF || !Rune.IsValid((int)code))
            {
                throw new FastCodecException(
                    $"DCT coefficient {i} quantises to {q}, which min_token {MinToken} maps to no Unicode scalar value");
            }
            text.Append(new Rune((int)code).ToString());
        }
        return Tokenizer.Encode(text.ToString());
    }

    private double[] NormalizeCore(double[] env)
    {
        var stats = RequireStats();
        var normalized = new double[env.Length];
        for (int i = 0; i < env.Length; i++)
        {
            int d = i % ActionDim;
            double low = stats.Q01[d], high = stats.Q99[d];
            normalized[i] = Math.Clamp(2 * (env[i] - low) / (high - low + 1e-8) - 1, -1, 1);
        }
        return normalized;
    }

    private double[] DenormalizeCore(double[] normalized)
    {
        var stats = RequireStats();
        var env = new double[normalized.Length];
        for (int i = 0; i < normalized.Length; i++)
        {
            int d = i % ActionDim;
            double low = stats.Q01[d], high = stats.Q99[d];
            env[i] = 0.5 * (normalized[i] + 1) * (high - low) + low;
            if (d == ActionDim - 1)
            {
                // The reference binarises the gripper (its comment says "flip"; the code does not).
                env[i] = env[i] > 0 ? 1.0 : -1.0;
            }
        }
        return env;
    }

    private NormStats RequireStats() => NormStats
        ?? throw new InvalidOperationException($"env-unit actions need norm stats; load {AssetsDirectory} with FastCodecOptions.NormStatsPath");

    /// <summary>[0, …, 0, −1] on every row: stay still, gripper open (LIBERO's no-op).</summary>
    private double[] NoOpEnvironmentChunk()
    {
        var env = new double[TimeHorizon * ActionDim];
        for (int t = 0; t < TimeHorizon; t++)
        {
            env[t * ActionDim + ActionDim - 1] = -1;
        }
        return env;
    }

    private double[] Flatten(float[,] chunk, string what)
    {
        if (chunk.GetLength(0) != TimeHorizon || chunk.GetLength(1) != ActionDim)
        {
            throw new FastCodecException(
                $"{what} are {chunk.GetLength(0)}×{chunk.GetLength(1)}; the codec expects {TimeHorizon}×{ActionDim}");
        }
        var flat = new double[TimeHorizon * ActionDim];
        for (int t = 0; t < TimeHorizon; t++)
        {
            for (int d = 0; d < ActionDim; d++)
            {
                float v = chunk[t, d];
                if (!float.IsFinite(v))
                {
                    throw new FastCodecException($"{what} [row {t}, column {d}] = {v} is not a finite number");
                }
                flat[t * ActionDim + d] = v;
            }
        }
        return flat;
    }

    private float[,] ToMatrix(double[] flat)
    {
        var matrix = new float[TimeHorizon, ActionDim];
        for (int t = 0; t < TimeHorizon; t++)
        {
            for (int d = 0; d < ActionDim; d++)
            {
                matrix[t, d] = (float)flat[t * ActionDim + d];
            }
        }
        return matrix;
    }
}
