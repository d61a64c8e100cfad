using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Runtime.Moe;

namespace Ellsa.Runtime.Duplex;

/// <summary>What a block's PCM cost and how far past its end the stream had reached when it ran.</summary>
/// <param name="LookaheadMs">Audio past the block's end that the block waited for (the encoder's lookahead; 0 after the stream's end).</param>
internal readonly record struct AudioWork(double FbankMs, double EncoderMs, long Samples, double LookaheadMs);

/// <summary>
/// A session's audio stream: PCM blocks in, each block's 5 projector rows out. The session holds
/// the encoder's lookahead by refusing a block whose rows are not final yet (the caller steps it
/// once that much more audio has arrived), so the rows equal the whole-utterance encoding; rows
/// computed early (lookahead audio already covers part of the next block) wait in a queue.
/// </summary>
internal sealed class SessionAudio : IDisposable
{
    private const int SampleRate = 16000;

    private readonly SpeechListener _listener;
    private readonly int _rowsPerBlock;
    private readonly List<float[]> _ready = [];
    private SpeechStream? _stream;
    private int _firstBlock = -1;

    public SessionAudio(SpeechListener listener, int rowsPerBlock)
    {
        _listener = listener;
        _rowsPerBlock = rowsPerBlock;
    }

    /// <summary>The session block the stream started at, or −1 before its first PCM block.</summary>
    public int FirstBlock => _firstBlock;
    public long SamplesReceived => _stream?.SamplesSeen ?? 0;
    public bool Ended => _stream?.Finished ?? false;

    /// <summary>Samples (from the stream's start) that must have arrived before <paramref name="block"/> can run.</summary>
    public long SamplesNeeded(int block)
    {
        int first = _firstBlock < 0 ? block : _firstBlock;
        return _listener.Lookahead.SamplesNeeded((block - first + 1) * _rowsPerBlock);
    }

    /// <summary>Checks everything that could refuse the block; nothing changes when it throws.</summary>
    public void Check(int block, AudioInput.Pcm pcm)
    {
        ArgumentNullException.ThrowIfNull(pcm.Samples, nameof(AudioInput.Pcm.Samples));
        int bad = FiniteValues.FirstNonFinite(pcm.Samples);
        if (bad >= 0)
            throw new ArgumentException($"block {block}: audio sample {bad} is {pcm.Samples[bad]}; PCM must be finite, in [−1, 1]");
        if (Ended)
        {
            if (pcm.Samples.Length > 0)
                throw new ArgumentException($"block {block}: {pcm.Samples.Length} audio samples after the end of the stream (a block before was marked EndOfStream)");
            if (_ready.Count < _rowsPerBlock)
                throw new ArgumentException($"block {block}: the audio stream ended and its rows are used up; it held {BlocksHeld()} blocks");
            return;
        }
        long total = SamplesReceived + pcm.Samples.Length;
        long needed = SamplesNeeded(block);
        if (!pcm.EndOfStream && total < needed)
        {
            long blockEnd = (long)(block - (_firstBlock < 0 ? block : _firstBlock) + 1) * SampleRate;
            throw new ArgumentException(
                $"block {block}: its audio embeddings need the stream to reach sample {needed} (the block's end plus the speech encoder's lookahead of " +
                $"{(needed - blockEnd) * 1000.0 / SampleRate:F1} ms); with this block's {pcm.Samples.Length} samples it reaches {total}: " +
                "step the block once that audio has arrived, or mark the stream's last audio EndOfStream");
        }
    }

    /// <summary>Feeds the block's samples and takes its rows (call <see cref="Check"/> first).</summary>
    public (float[][] Rows, AudioWork Work) Take(int block, AudioInput.Pcm pcm)
    {
        if (_stream is null)
        {
            _stream = _listener.CreateStream();
            _firstBlock = block;
        }
        double fbankBefore = _stream.FbankMs, encoderBefore = _stream.EncoderMs;
        if (!_stream.Finished)
        {
            _stream.Push(pcm.Samples, _ready);
            if (pcm.EndOfStream)
            {
                // The reference encodes the episode's audio as whole blocks: the last one is zero-padded to its end.
                long blockEnd = (long)(block - _firstBlock + 1) * SampleRate;
                long padded = Math.Max(blockEnd, (_stream.SamplesSeen + SampleRate - 1) / SampleRate * SampleRate);
                _stream.Push(new float[padded - _stream.SamplesSeen], _ready);
                _stream.Finish(_ready);
            }
        }
        if (_ready.Count < _rowsPerBlock)
            throw new InvalidOperationException(
                $"block {block}: the speech encoder has {_ready.Count} rows ready where the lookahead promised {_rowsPerBlock}");
        var rows = _ready.GetRange(0, _rowsPerBlock).ToArray();
        _ready.RemoveRange(0, _rowsPerBlock);
        long end = (long)(block - _firstBlock + 1) * SampleRate;
        double lookaheadMs = _stream.Finished ? 0 : Math.Max(0, _stream.SamplesSeen - end) * 1000.0 / SampleRate;
        return (rows, new AudioWork(_stream.FbankMs - fbankBefore, _stream.EncoderMs - encoderBefore, _stream.SamplesSeen, lookaheadMs));
    }

    private int BlocksHeld() => _stream is null ? 0 : (int)(_stream.RowsEmitted / _rowsPerBlock);

    public void Dispose() => _stream?.Dispose();
}
