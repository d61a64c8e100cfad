using System.Text;
using System.Text.Json;

namespace Ellsa.Runtime.Decoding;

/// <summary>
/// The bytes of one untrusted JSON input (SEQ.json, SESSION.json), read in chunks so that memory
/// stays bounded whatever the file is: a size bound stops a huge file (or <c>/dev/zero</c>, a FIFO)
/// after at most that many bytes, and no single token may outgrow <see cref="MaxTokenBytes"/>.
/// Parse it through <see cref="JsonCursor"/>.
/// </summary>
public sealed class JsonInput : IDisposable
{
    public const int MaxTokenBytes = 1 << 20;
    private const int ChunkBytes = 1 << 16;

    private readonly Stream _stream;
    private byte[] _buffer = new byte[ChunkBytes];
    private int _start;
    private int _end;
    private long _total;

    private JsonInput(string name, Stream stream, long maxBytes)
    {
        Name = name;
        _stream = stream;
        MaxBytes = maxBytes;
    }

    /// <summary>The file name every error starts with.</summary>
    public string Name { get; }
    public long MaxBytes { get; }
    internal bool IsFinal { get; private set; }
    internal ReadOnlySpan<byte> Pending => _buffer.AsSpan(_start, _end - _start);

    public static JsonInput Open(string path, long maxBytes)
    {
        string name = Path.GetFileName(path);
        Stream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InputFileException($"{name}: file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputFileException($"{name}: cannot be read: {e.Message}");
        }
        var input = new JsonInput(name, stream, maxBytes);
        try
        {
            // A regular file says its size at once; devices and pipes report 0 and are counted as they stream.
            if (stream.CanSeek && stream.Length > maxBytes)
                throw input.TooLarge(stream.Length);
            input.Fill();
            if (input.Pending.StartsWith("\uFEFF"u8))
                input._start += 3;
            return input;
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    public InputFileException Error(string problem) => new($"{Name}: {problem}");

    /// <summary>Drops the <paramref name="consumed"/> bytes the reader is done with and reads the next chunk.</summary>
    internal void Refill(int consumed)
    {
        _start += consumed;
        if (_start == _end)
            _start = _end = 0;
        else if (_start > 0 && _end == _buffer.Length)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            // The reader could not finish one token in a full buffer.
            if (_buffer.Length >= MaxTokenBytes)
                throw Error($"a single JSON value is longer than {MaxTokenBytes >> 20} MB");
            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, MaxTokenBytes));
        }
        Fill();
    }

    private void Fill()
    {
        int read;
        try
        {
            read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error($"cannot be read: {e.Message}");
        }
        _end += read;
        _total += read;
        if (_total > MaxBytes)
            throw TooLarge(null);
        IsFinal = read == 0;
    }

    private InputFileException TooLarge(long? size) =>
        Error($"{(size is { } s ? $"is {Megabytes(s)}, over" : "goes on past")} the {Megabytes(MaxBytes)} bound on this input");

    private static string Megabytes(long bytes) => bytes >= 10 << 20 ? $"{bytes >> 20} MB" : $"{bytes} bytes";

    public void Dispose() => _stream.Dispose();
}

/// <summary>
/// Pulls tokens from a <see cref="JsonInput"/> chunk by chunk (one <see cref="Utf8JsonReader"/> carried
/// across refills), with the engine's JSON dialect: comments and trailing commas tolerated.
/// Syntax errors become the input's error with the line and byte.
/// </summary>
public ref struct JsonCursor
{
    private static readonly JsonReaderOptions Options = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private readonly JsonInput _input;
    private Utf8JsonReader _reader;

    public JsonCursor(JsonInput input)
    {
        _input = input;
        _reader = new Utf8JsonReader(input.Pending, input.IsFinal, new JsonReaderState(Options));
    }

    public readonly JsonTokenType TokenType => _reader.TokenType;

    /// <summary>Moves to the next token; false at the end of the input.</summary>
    public bool Read()
    {
        try
        {
            while (!_reader.Read())
            {
                if (_input.IsFinal)
                    return false;
                _input.Refill(checked((int)_reader.BytesConsumed));
                _reader = new Utf8JsonReader(_input.Pending, _input.IsFinal, _reader.CurrentState);
            }
            return true;
        }
        catch (JsonException e)
        {
            throw _input.Error($"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message.Split(". ")[0]}");
        }
    }

    /// <summary>Reads the next token, which the format requires to be there.</summary>
    public void Next()
    {
        if (!Read())
            throw _input.Error("ends too early");
    }

    /// <summary>After the root value: anything but whitespace and comments is an error.</summary>
    public void ExpectEnd()
    {
        if (Read())
            throw _input.Error("has more after the top-level object");
    }

    public readonly string GetString() => _reader.GetString()!;
    public readonly bool TryGetInt32(out int value) => _reader.TryGetInt32(out value);

    public readonly bool TryGetFiniteSingle(out float value) => _reader.TryGetSingle(out value) && float.IsFinite(value);

    /// <summary>The current token as written, shortened, for an error message.</summary>
    public readonly string Raw()
    {
        if (_reader.TokenType is JsonTokenType.StartObject)
            return "an object";
        if (_reader.TokenType is JsonTokenType.StartArray)
            return "an array";
        var span = _reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(_reader.ValueSequence) : _reader.ValueSpan.ToArray();
        string text = Encoding.UTF8.GetString(span, 0, Math.Min(span.Length, 40));
        return _reader.TokenType == JsonTokenType.String ? $"\"{text}\"" : text;
    }

    /// <summary>Skips the value the cursor is on (a scalar, or a whole object or array).</summary>
    public void SkipValue()
    {
        if (_reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
            return;
        int depth = _reader.CurrentDepth;
        do
            Next();
        while (_reader.CurrentDepth > depth || _reader.TokenType is not (JsonTokenType.EndObject or JsonTokenType.EndArray));
    }

    public readonly InputFileException Error(string problem) => _input.Error(problem);
}
