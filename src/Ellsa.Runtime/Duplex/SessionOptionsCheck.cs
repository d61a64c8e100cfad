using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Decoding;
using Ellsa.Runtime.Moe;

namespace Ellsa.Runtime.Duplex;

/// <summary>
/// Checks a session's options against the model before anything is allocated from them: a
/// context limit sizes the KV cache, decode limits size every block, so an unchecked value is an
/// allocation or a loop of any size. Each error names the option and its bound.
/// </summary>
/// <remarks>Plain <see cref="ArgumentException"/>s without a parameter name: the message already names the option, and .NET's "(Parameter 'x')" suffix would name nothing the caller wrote.</remarks>
internal static class SessionOptionsCheck
{
    /// <summary>Ids one block may decode per phase; far beyond the protocol's 40, far below anything that hurts.</summary>
    public const int MaxDecodePerPhase = 4096;

    /// <summary>The smallest context limit accepted (as ellsa.json session.context_limit and --context-limit).</summary>
    public const int MinContextLimit = 16;

    /// <summary>The context limit the session will use: the option, else ellsa.json, else the smaller max_position_embeddings.</summary>
    public static int ContextLimit(SessionOptions options, ModelConfig config)
    {
        int positions = Math.Min(config.Speech.MaxPositionEmbeddings, config.Vision.MaxPositionEmbeddings);
        if (options.ContextLimit is { } limit)
        {
            if (limit < MinContextLimit || limit > positions)
                throw new ArgumentException($"SessionOptions.ContextLimit {limit}: must be between {MinContextLimit} and {positions} (the smaller max_position_embeddings of the experts)");
            return limit;
        }
        if (config.Settings.Session.ContextLimit is { } configured)
        {
            if (configured > positions)
                throw new ConfigException(
                    $"{EllsaSettings.FileName}: session.context_limit {configured} exceeds {positions}, the smaller max_position_embeddings of the experts");
            return configured;
        }
        return positions;
    }

    public static void Limits(DecodeLimits? limits)
    {
        if (limits is null)
            return;
        if (limits.MaxText is < 1 or > MaxDecodePerPhase)
            throw new ArgumentException($"SessionOptions.Limits.MaxText {limits.MaxText}: must be between 1 and {MaxDecodePerPhase}");
        if (limits.MaxAction is < 1 or > MaxDecodePerPhase)
            throw new ArgumentException($"SessionOptions.Limits.MaxAction {limits.MaxAction}: must be between 1 and {MaxDecodePerPhase}");
    }

    public static void Scalars(SessionOptions options)
    {
        if (!Enum.IsDefined(options.Mode))
            throw new ArgumentException($"SessionOptions.Mode {(int)options.Mode}: must be Speech or Act");
        if (!Enum.IsDefined(options.Task))
            throw new ArgumentException($"SessionOptions.Task {(int)options.Task}: is not a SpeechTask");
        if (options.BlockDeadline <= TimeSpan.Zero)
            throw new ArgumentException($"SessionOptions.BlockDeadline {options.BlockDeadline}: must be positive (a block's compute should finish within it)");
    }

    /// <summary>Every prompt id must exist in the vocabulary of the expert the marker rule routes it to.</summary>
    public static void PromptIds(IReadOnlyList<int> prompt, SaMoeModel network, string source)
    {
        var current = Expert.Speech;
        for (int i = 0; i < prompt.Count; i++)
        {
            int id = prompt[i];
            if (id < 0)
                throw new ArgumentException($"{source}[{i}] is {id}: token ids are 0 or more");
            current = network.Router.Route(id, current);
            int size = network[current].VocabSize;
            if (id >= size)
                throw new ArgumentException($"{source}[{i}] is {id}, outside the {current.Describe()} vocabulary it is routed to ({size} ids)");
        }
    }

    /// <summary>Trimming starts above <paramref name="at"/> × the limit and goes down to <paramref name="to"/> × the limit.</summary>
    public static void TrimFractions(double at, double to, string atName, string toName)
    {
        if (!(at > 0 && at <= 1))
            throw new ArgumentException($"{atName} {at}: must be in (0, 1] (a fraction of the context limit)");
        if (!(to > 0 && to <= at))
            throw new ArgumentException($"{toName} {to}: must be in (0, {atName} = {at}] (a fraction of the context limit)");
    }
}
