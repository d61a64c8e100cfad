using Ellsa.Kernels.Numerics;
using Ellsa.Runtime.Checkpoints;

namespace Ellsa.Tests.Support;

/// <summary>Random tensors as a checkpoint stores them: drawn, rounded to their dtype, and the rounded values kept for the naive references.</summary>
public static class RoundedTensors
{
    /// <summary>Draws values, rounds them to <paramref name="dtype"/> and records the tensor in <paramref name="tensors"/>; returns the stored values.</summary>
    public static double[] Store(List<TensorData> tensors, string name, long[] shape, SafetensorsDtype dtype, Func<double> draw)
    {
        int count = checked((int)shape.Aggregate(1L, (a, b) => a * b));
        var values = new double[count];
        var bytes = new byte[count * SafetensorsDtypes.Bits(dtype) / 8];
        for (int i = 0; i < count; i++)
        {
            float v = (float)draw();
            switch (dtype)
            {
                case SafetensorsDtype.BF16:
                    ushort b = BFloat16.FromSingle(v);
                    BitConverter.TryWriteBytes(bytes.AsSpan(2 * i), b);
                    values[i] = BFloat16.ToSingle(b);
                    break;
                case SafetensorsDtype.F16:
                    var h = (Half)v;
                    BitConverter.TryWriteBytes(bytes.AsSpan(2 * i), h);
                    values[i] = (double)h;
                    break;
                default:
                    BitConverter.TryWriteBytes(bytes.AsSpan(4 * i), v);
                    values[i] = v;
                    break;
            }
        }
        tensors.Add(new TensorData(name, dtype, shape, bytes));
        return values;
    }
}
