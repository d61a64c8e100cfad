namespace Ellsa.Runtime.Configuration;

/// <summary>
/// The stated upper bound of every size or count the engine reads from a model directory and then
/// allocates or loops over. Each is checked, with the file and field named, before anything is
/// sized from it. The bounds are generous: the release (Llama-3.1-8B: 4096 wide, 14336 FFN, 32
/// layers, 32 heads, 8 KV heads, 128256 ids, 131072 positions; Emu3: 184622 ids) passes with room.
/// </summary>
public static class ConfigBounds
{
    public const int MaxHiddenSize = 65536;
    public const int MaxIntermediateSize = 262144;
    public const int MaxLayers = 1024;
    public const int MaxHeads = 1024;
    public const int MaxHeadDim = 1024;
    /// <summary>Ids of one vocabulary (config vocab_size, tokenizer ids, special ids): 4 M.</summary>
    public const int MaxVocabSize = 1 << 22;
    /// <summary>Twice Llama-3.1's 131072: the default context limit preallocates this many KV positions.</summary>
    public const int MaxPositions = 1 << 18;
    /// <summary>FAST chunk length: the DCT basis is T² doubles (8 MB at the bound; the release uses 10).</summary>
    public const int MaxTimeHorizon = 1024;
    /// <summary>FAST action dimension (the release: 7).</summary>
    public const int MaxActionDim = 256;
    /// <summary>VQ codes per camera frame (the release: 625).</summary>
    public const int MaxCodesPerFrame = 65536;
    /// <summary>Image header ids written before each frame (the release: 7).</summary>
    public const int MaxHeaderIds = 64;
}
