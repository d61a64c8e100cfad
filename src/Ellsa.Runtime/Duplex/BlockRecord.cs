namespace Ellsa.Runtime.Duplex;

/// <summary>
/// One block as the history keeps it: its audio rows, its frames' codes, and what the model
/// answered — the text with its last id forced to eot (W:658-661, 874-877) and, when acting,
/// the action ids verbatim (W:677).
/// </summary>
internal sealed record BlockRecord(int Index, float[][] Audio, int[][] Images)
{
    public int[] Text { get; set; } = [];
    public int[] Actions { get; set; } = [];
}
