using System.Buffers;
using System.Text;

namespace Ellsa.Runtime.Codecs.Text;

/// <summary>
/// HF's ByteLevel pre-tokenizer: optionally a leading space on every piece that lacks one
/// (HF applies add_prefix_space per split, not only to the first), optionally the GPT-2 split,
/// then every piece rewritten as the byte symbols of its UTF-8 bytes.
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    public const string Gpt2Pattern =
        @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private static readonly SplitPreTokenizer Gpt2Split =
        new(new CodePointRegex(Gpt2Pattern), SplitBehavior.Isolated, invert: false);

    public override List<string> Apply(List<string> pieces)
    {
        if (addPrefixSpace)
        {
            // As HF's NormalizedString.prepend, an empty piece stays empty (no lone 'Ġ').
            pieces = pieces.Select(p => p.Length == 0 || p.StartsWith(' ') ? p : " " + p).ToList();
        }
        if (useRegex)
        {
            pieces = Gpt2Split.Apply(pieces);
        }
        var output = new List<string>(pieces.Count);
        foreach (var piece in pieces)
        {
            if (piece.Length > 0)
            {
                output.Add(ToByteSymbols(piece));
            }
        }
        return output;
    }

    internal static string ToByteSymbols(string text)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = max > 1024 ? ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> bytes = rented ?? stackalloc byte[max];
        int count = Encoding.UTF8.GetBytes(text, bytes);
        Span<char> symbols = count <= 1024 ? stackalloc char[count] : new char[count];
        for (int i = 0; i < count; i++)
        {
            symbols[i] = ByteLevelAlphabet.ByteToChar(bytes[i]);
        }
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
        return new string(symbols);
    }
}
