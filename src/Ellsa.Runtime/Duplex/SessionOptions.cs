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

    /// <summary>The prompt's ids (bop … eop). Null: the mode's prompt encoded with the model's tokenizer.</summary>
    public IReadOnlyList<int>? PromptIds { get; init; }

    /// <summary>Positions the sequence may reach, decode included. Null: ellsa.json session.context_limit, else the smaller max_position_embeddings.</summary>
    public int? ContextLimit { get; init; }

    /// <summary>Null: 40/40 when acting, 9/40 in speech dialogue (00-design.md §5).</summary>
    public DecodeLimits? Limits { get; init; }

    /// <summary>A block's compute should finish within this; longer blocks report a deadline overrun.</summary>
    public TimeSpan BlockDeadline { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Run the action loop in speech dialogue although its output is discarded (the reference does).
    /// Null: only in parity mode.
    /// </summary>
    public bool? RunSpeechActionLoop { get; init; }

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
