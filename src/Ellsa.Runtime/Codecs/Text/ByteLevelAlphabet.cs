namespace Ellsa.Runtime.Codecs.Text;

/// <summary>
/// GPT-2's reversible byte ↔ printable-character map used by byte-level BPE: printable Latin-1
/// bytes stand for themselves, the other 68 bytes take U+0100..U+0143 in byte order, so every
/// token is a string of visible characters.
/// </summary>
internal static class ByteLevelAlphabet
{
    public const int MaxChar = 0x143;

    private static readonly char[] ByteToCharTable = BuildByteToChar();
    private static readonly short[] CharToByteTable = BuildCharToByte();

    public static char ByteToChar(byte b) => ByteToCharTable[b];

    /// <summary>The byte a symbol stands for, or -1 when the character is not one of the 256.</summary>
    public static int CharToByte(char c) => c <= MaxChar ? CharToByteTable[c] : -1;

    /// <summary>All 256 symbols in code-point order, the order HF's trainer gives byte tokens.</summary>
    public static IEnumerable<char> SymbolsInCodePointOrder() => ByteToCharTable.Order();

    private static bool IsPrintableLatin1(int b) =>
        (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 0x100;
        for (int b = 0; b < 256; b++)
        {
            map[b] = IsPrintableLatin1(b) ? (char)b : (char)next++;
        }
        return map;
    }

    private static short[] BuildCharToByte()
    {
        var map = new short[MaxChar + 1];
        Array.Fill(map, (short)-1);
        for (int b = 0; b < 256; b++)
        {
            map[ByteToCharTable[b]] = (short)b;
        }
        return map;
    }
}
