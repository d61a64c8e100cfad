using System.Buffers.Binary;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Numerics;

namespace Ellsa.Perf.LlamaCpp;

/// <summary>
/// Writes rows of an engine weight matrix (bf16 or f32 parts) in a ggml type: BF16 as stored,
/// F16 and F32 by value, Q8_0 as llama.cpp's reference quantiser does (per 32 values one f16
/// scale amax/127 and round-half-away-from-zero int8 codes).
/// </summary>
public static unsafe class GgmlRowEncoder
{
    /// <summary>Rows first…first+count of <paramref name="matrix"/>; output row i is source row <c>first + order(i)</c>.</summary>
    public static void Write(Stream output, HostMatrix matrix, int first, int count, GgmlType type, Func<int, int>? order = null)
    {
        int cols = matrix.Cols;
        var values = new float[cols];
        var bytes = new byte[GgufWriter.TensorBytes([cols, 1], type)];
        for (int i = 0; i < count; i++)
        {
            int row = first + (order?.Invoke(i) ?? i);
            ReadRow(matrix, row, values);
            Encode(values, type, bytes);
            output.Write(bytes);
        }
    }

    /// <summary>An f32 vector (a norm's weights).</summary>
    public static void Write(Stream output, ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        output.Write(bytes);
    }

    public static void ReadRow(HostMatrix matrix, int row, Span<float> values)
    {
        foreach (var part in matrix.Parts)
        {
            if (row >= part.Rows)
            {
                row -= part.Rows;
                continue;
            }
            for (int c = 0; c < part.Cols; c++)
            {
                values[c] = part.Dtype == WeightDtype.BF16
                    ? BFloat16.ToSingle(((ushort*)part.Data)[(long)row * part.Cols + c])
                    : ((float*)part.Data)[(long)row * part.Cols + c];
            }
            return;
        }
        throw new ArgumentOutOfRangeException(nameof(row), $"{matrix.Name} has {matrix.Rows} rows");
    }

    public static void Encode(ReadOnlySpan<float> values, GgmlType type, Span<byte> bytes)
    {
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteSingleLittleEndian(bytes[(4 * i)..], values[i]);
                break;
            case GgmlType.F16:
                for (int i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteHalfLittleEndian(bytes[(2 * i)..], (Half)values[i]);
                break;
            case GgmlType.BF16:
                // The engine's values are bf16 already, so this conversion is exact.
                for (int i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes[(2 * i)..], BFloat16.FromSingle(values[i]));
                break;
            case GgmlType.Q8_0:
                for (int b = 0; b < values.Length / 32; b++)
                    EncodeQ8Block(values.Slice(32 * b, 32), bytes.Slice(34 * b, 34));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "unsupported ggml type");
        }
    }

    /// <summary>ggml's quantize_row_q8_0_ref for one block.</summary>
    public static void EncodeQ8Block(ReadOnlySpan<float> block, Span<byte> destination)
    {
        float amax = 0;
        foreach (float v in block)
            amax = MathF.Max(amax, MathF.Abs(v));
        float d = amax / 127;
        float id = d != 0 ? 1 / d : 0;
        BinaryPrimitives.WriteHalfLittleEndian(destination, (Half)d);
        for (int j = 0; j < 32; j++)
            destination[2 + j] = (byte)(sbyte)MathF.Round(block[j] * id, MidpointRounding.AwayFromZero);
    }

    /// <summary>Decodes one Q8_0 block (for the writer's own check).</summary>
    public static void DecodeQ8Block(ReadOnlySpan<byte> source, Span<float> block)
    {
        float d = (float)BinaryPrimitives.ReadHalfLittleEndian(source);
        for (int j = 0; j < 32; j++)
            block[j] = d * (sbyte)source[2 + j];
    }
}
