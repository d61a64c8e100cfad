using System.Text;

namespace Ellsa.Tests.Codecs;

/// <summary>Fresh random strings for round trips: ASCII with white space, accented Latin, CJK,
/// kana, Hangul, emoji (with skin tones and ZWJ), supplementary letters and combining marks.</summary>
internal static class RandomText
{
    private static readonly (int From, int To)[] Ranges =
    [
        (0x20, 0x7E), (0x20, 0x7E), (0x20, 0x7E), (0x61, 0x7A), (0x61, 0x7A),
        (0xC0, 0x17F), (0x4E00, 0x9FFF), (0x3040, 0x30FF), (0xAC00, 0xD7A3),
        (0x1F600, 0x1F64F), (0x1F900, 0x1F9FF), (0x1F3FB, 0x1F3FF), (0x200D, 0x200D),
        (0x1D400, 0x1D433), (0x20000, 0x2A6DF), (0x0300, 0x036F), (0x0660, 0x0669),
    ];

    private static readonly string[] Whitespace = [" ", " ", "  ", "\n", "\t", "\r\n", "\u00A0", "\u3000"];

    public static string Next(Random random, int maxLength, IReadOnlyList<string>? extras = null)
    {
        var sb = new StringBuilder();
        int length = random.Next(0, maxLength + 1);
        while (sb.Length < length)
        {
            int pick = random.Next(10);
            if (pick == 0)
            {
                sb.Append(Whitespace[random.Next(Whitespace.Length)]);
            }
            else if (pick == 1 && extras is { Count: > 0 })
            {
                sb.Append(extras[random.Next(extras.Count)]);
            }
            else
            {
                var (from, to) = Ranges[random.Next(Ranges.Length)];
                sb.Append(char.ConvertFromUtf32(random.Next(from, to + 1)));
            }
        }
        return sb.ToString();
    }

    /// <summary>A seed that differs per run and is printed by failing tests.</summary>
    public static int FreshSeed() => Environment.TickCount ^ Guid.NewGuid().GetHashCode();
}
