using Ellsa.Runtime.Decoding;

namespace Ellsa.Runtime.Duplex;

/// <summary>The two modes of the released model (02-protocol.md §1.3 and §1.4).</summary>
public enum SessionMode
{
    /// <summary>Speech dialogue: no camera (an empty image slot), a constant no-op action chunk in the history.</summary>
    Speech,
    /// <summary>Acting with speech: two camera views per block, a window of 2 blocks with images and actions.</summary>
    Act,
}

/// <summary>The speech-dialogue task, which picks the prompt (W:117).</summary>
public enum SpeechTask
{
    DialogueQa,
    Transcription,
    VisualQa,
}

public sealed record SessionOptions
{
    public SessionMode Mode { get; init; } = SessionMode.Speech;

    public SpeechTask Task { get; init; } = SpeechTask.DialogueQa;

    /// <summary>
    /// Rebuild and re-prefill the whole sequence every block, as the reference does. Off by default:
    /// the incremental mode keeps the cached prefix that the next block's sequence shares.
    /// </summary>
    public bool Parity { get; init; }

    /// <summary>The prompt's ids (bop … eop), each inside the vocabulary of the expert it routes to. Null: the mode's prompt encoded with the model's tokenizer.</summary>
    public IReadOnlyList<int>? PromptIds { get; init; }

    /// <summary>Positions the sequence may reach, decode included: 16 … the smaller max_position_embeddings. Null: ellsa.json session.context_limit, else that maximum.</summary>
    public int? ContextLimit { get; init; }

    /// <summary>
    /// Trimming starts when a block's sequence plus its decode budget would pass this fraction of
    /// the context limit (null: ellsa.json session.trim_at, else 1 — only when it would not fit).
    /// A trim re-prefills everything after the prompt, so a controller that wants no long block
    /// trims earlier and less each time: e.g. TrimAt 0.9, TrimTo 0.8.
    /// </summary>
    public double? TrimAt { get; init; }

    /// <summary>The fraction of the context limit a trim goes down to (null: ellsa.json session.trim_to, else 0.75); at most <see cref="TrimAt"/>.</summary>
    public double? TrimTo { get; init; }

    /// <summary>Null: 40/40 when acting, 9/40 in speech dialogue (00-design.md §5). Each at most 4096.</summary>
    public DecodeLimits? Limits { get; init; }

    /// <summary>A block's compute should finish within this (positive); longer blocks report a deadline overrun.</summary>
    public TimeSpan BlockDeadline { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Run the action loop in speech dialogue although its output is discarded (the reference does).
    /// Null: only in parity mode.
    /// </summary>
    public bool? RunSpeechActionLoop { get; init; }

    /// <summary>
    /// The session's speech output. Null: speak, with the defaults of <see cref="SpeakOptions"/>, when
    /// the model has a speech decoder (<see cref="Model.Speaker"/>); asking to speak a model without one is refused.
    /// </summary>
    public SpeakOptions? Speak { get; init; }

    /// <summary>The prompt text of each mode and task, wrapped in bop/eop by the session.</summary>
    public string PromptText => Mode == SessionMode.Act
        ? "Please answer by action or text following the speech instruction."
        : Task switch
        {
            SpeechTask.Transcription => "Generate a transcript of the speech.",
            SpeechTask.VisualQa => "Please answer the question based on the image.",
            _ => "Please answer the question.",
        };
}
