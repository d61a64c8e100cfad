using System.Buffers.Binary;
using System.Text;

namespace Ellsa.Tests.Support;

/// <summary>Writes safetensors bytes by hand, so tests can produce every kind of malformed file.</summary>
public static class RawSafetensors
{
    public static byte[] Build(string headerJson, int dataBytes, ulong? declaredLength = null)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        return Build(header, dataBytes, declaredLength);
    }

    public static byte[] Build(byte[] header, int dataBytes, ulong? declaredLength = null)
    {
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        new Random(1).NextBytes(bytes.AsSpan(8 + header.Length));
        return bytes;
    }

    /// <summary>A valid file with two F32 tensors a [2,2] and b [3].</summary>
    public static string ValidHeader =>
        """{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[3],"data_offsets":[16,28]}}""";
}
