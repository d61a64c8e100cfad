namespace Ellsa.Tests.Codecs;

/// <summary>Fresh random normalised chunks in [−1, 1] for round trips: smooth ones like real
/// motions, and rough ones (independent uniform values, some exactly ±1) that use every
/// frequency.</summary>
internal static class RandomChunks
{
    public static float[,] Smooth(Random random, int rows, int columns)
    {
        var chunk = new float[rows, columns];
        for (int d = 0; d < columns - 1; d++)
        {
            double offset = Uniform(random, -0.7, 0.7), slope = Uniform(random, -0.4, 0.4);
            double amplitude = Uniform(random, 0, 0.3), frequency = Uniform(random, 0, 1.5), phase = Uniform(random, 0, 2 * Math.PI);
            for (int t = 0; t < rows; t++)
            {
                double value = offset + slope * (t / (double)Math.Max(rows - 1, 1) - 0.5)
                    + amplitude * Math.Sin(2 * Math.PI * frequency * t / rows + phase) + Uniform(random, -0.03, 0.03);
                chunk[t, d] = (float)Math.Clamp(value, -1, 1);
            }
        }
        float gripper = random.Next(2) == 0 ? -1f : 1f;
        int flip = random.Next(4) == 0 ? random.Next(1, rows) : rows;
        for (int t = 0; t < rows; t++)
        {
            chunk[t, columns - 1] = t < flip ? gripper : -gripper;
        }
        return chunk;
    }

    public static float[,] Rough(Random random, int rows, int columns)
    {
        var chunk = new float[rows, columns];
        for (int t = 0; t < rows; t++)
        {
            for (int d = 0; d < columns; d++)
            {
                int pick = random.Next(10);
                chunk[t, d] = pick == 0 ? 1f : pick == 1 ? -1f : (float)Uniform(random, -1, 1);
            }
        }
        return chunk;
    }

    private static double Uniform(Random random, double low, double high) => low + (high - low) * random.NextDouble();
}
