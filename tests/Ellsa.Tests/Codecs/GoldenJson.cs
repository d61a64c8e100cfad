using System.Text.Json;

namespace Ellsa.Tests.Codecs;

internal static class GoldenJson
{
    public static int[] Ints(this JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    public static double[][] Matrix(this JsonElement e) =>
        e.EnumerateArray().Select(row => row.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();

    /// <summary>A golden matrix as float[,]; goldens store float32 inputs as exact doubles.</summary>
    public static float[,] FloatMatrix(this JsonElement e)
    {
        var rows = e.Matrix();
        var result = new float[rows.Length, rows[0].Length];
        for (int r = 0; r < rows.Length; r++)
        {
            for (int c = 0; c < rows[r].Length; c++)
            {
                result[r, c] = (float)rows[r][c];
            }
        }
        return result;
    }
}
