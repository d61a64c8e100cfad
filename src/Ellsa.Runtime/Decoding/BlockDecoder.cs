using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Moe;

namespace Ellsa.Runtime.Decoding;

/// <summary>Caps of one block's decode (00-design.md §5): 40/40 when acting, 9/40 in speech-only dialogue.</summary>
public sealed record DecodeLimits(int MaxText, int MaxAction)
{
    public static DecodeLimits Acting => new(40, 40);
    public static DecodeLimits SpeechOnly => new(9, 40);
}

/// <summary>What one block's decode produced: text ids, and action ids starting with boa.</summary>
public sealed record BlockOutput(int[] TextIds, int[] ActionIds);

/// <summary>
/// The decode protocol of one block, exactly as the reference <c>generate</c> (01-model.md §1.5):
/// greedy text from the speech head until eot, the last text token fed once more, then a forced
/// boa and greedy actions from the vision head restricted to the action ids and eoa.
/// </summary>
public sealed class BlockDecoder
{
    private readonly SaMoeModel _model;
    private readonly IdRange[] _actionIds;

    public BlockDecoder(SaMoeModel model)
    {
        _model = model;
        var tokens = model.Config.Settings.Tokens;
        _actionIds = [new IdRange(tokens.ActionFirst, tokens.ActionLast), IdRange.Single(tokens.Eoa)];
        CheckTokens();
    }

    /// <summary>Positions a block may add after its prompt: text, the extra feed, and actions.</summary>
    public static int MaxNewPositions(DecodeLimits limits) => limits.MaxText + limits.MaxAction;

    /// <summary>Prefills <paramref name="prompt"/> onto <paramref name="state"/> and decodes one block.</summary>
    public BlockOutput Generate(SequenceState state, TokenBatch prompt, DecodeLimits limits)
    {
        state.Append(prompt);
        return Decode(state, limits);
    }

    /// <summary>Decodes one block from a state whose last position is the block's final prompt token.</summary>
    public BlockOutput Decode(SequenceState state, DecodeLimits limits)
    {
        var text = DecodeText(state, limits.MaxText);
        return new BlockOutput(text, DecodeActions(state, limits.MaxAction));
    }

    /// <summary>
    /// The text phase: token 1 from the speech head whatever expert the last prompt position had
    /// (it is never tested for eot), then greedy speech steps until eot or the cap, and finally the
    /// last text token fed once more. Afterwards the cache ends with every text token.
    /// <para>
    /// With <paramref name="hidden"/>, also the rows the speech decoder reads, kept as the authors'
    /// <c>generate</c> keeps them (emu:L3436-3488): the final-normed hidden state that produced each
    /// token, except one that produced eot after the first; none when the first token is silence.
    /// </para>
    /// </summary>
    public int[] DecodeText(SequenceState state, int maxText, List<float[]>? hidden = null)
    {
        if (maxText < 1)
            throw new ArgumentOutOfRangeException(nameof(maxText), maxText, "max_text must be at least 1");
        var tokens = _model.Config.Settings.Tokens;
        var text = new List<int>(maxText) { state.ArgMax(Expert.Speech) };
        hidden?.Clear();
        KeepHidden(state, hidden);
        for (int i = 1; i < maxText; i++)
        {
            state.Step(text[^1], Expert.Speech);
            int next = state.ArgMax(Expert.Speech);
            text.Add(next);
            if (next == tokens.Eot)
                break;
            KeepHidden(state, hidden);
        }
        state.Step(text[^1], Expert.Speech);
        if (text[0] == tokens.Silence)
            hidden?.Clear();
        return text.ToArray();
    }

    private void KeepHidden(SequenceState state, List<float[]>? hidden)
    {
        if (hidden is null)
            return;
        var row = new float[_model.Speech.Config.HiddenSize];
        state.LastHidden(row);
        hidden.Add(row);
    }

    /// <summary>The action phase: a forced boa, then greedy vision steps restricted to the action ids and eoa, until eoa or the cap.</summary>
    public int[] DecodeActions(SequenceState state, int maxAction)
    {
        if (maxAction < 1)
            throw new ArgumentOutOfRangeException(nameof(maxAction), maxAction, "max_action must be at least 1");
        var tokens = _model.Config.Settings.Tokens;
        var actions = new List<int>(maxAction) { tokens.Boa };
        for (int i = 1; i < maxAction; i++)
        {
            state.Step(actions[^1], Expert.Vision);
            int next = state.ArgMax(Expert.Vision, _actionIds);
            actions.Add(next);
            if (next == tokens.Eoa)
                break;
        }
        return actions.ToArray();
    }

    /// <summary>The protocol's fixed ids must exist in the vocabularies they are used with.</summary>
    private void CheckTokens()
    {
        var tokens = _model.Config.Settings.Tokens;
        int speechHead = _model.Speech.HeadSize;
        int speechVocab = _model.Speech.VocabSize;
        int visionHead = _model.Vision.HeadSize;
        int visionVocab = _model.Vision.VocabSize;
        Require("eot", tokens.Eot, Math.Min(speechHead, speechVocab), "speech");
        Require("boa", tokens.Boa, visionVocab, "vision");
        Require("eoa", tokens.Eoa, Math.Min(visionHead, visionVocab), "vision");
        Require("action_first", tokens.ActionFirst, Math.Min(visionHead, visionVocab), "vision");
        Require("action_last", tokens.ActionLast, Math.Min(visionHead, visionVocab), "vision");
    }

    private static void Require(string name, int id, int size, string expert)
    {
        if (id >= size)
            throw new Configuration.ConfigException(
                $"ellsa.json: tokens.{name} = {id} is outside the {expert} vocabulary ({size} ids); set the model's own special ids in ellsa.json");
    }
}
