using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Runtime.Networks;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Speech;

/// <summary>
/// The stream against the whole-utterance encoding on fresh random weights and fbank: for every
/// split tried (everything at once, one frame at a time, random piece sizes with empty pushes
/// among them) the streamed rows equal the offline rows within 1e-5 relative L2, and after each
/// push exactly the rows whose inputs are final have come out (row r once fbank frame 2J + 14
/// exists, J the last 50 Hz frame of the chunk holding the row's last frame).
/// </summary>
public sealed class SpeechStreamingTests
{
    /// <summary>Configs of different shapes: the release's seven stacks at small width, and one with odd sizes and a 2× output downsampling.</summary>
    public static SpeechEncoderConfig Config(string kind, Random random) => kind switch
    {
        "release-structure" => new SpeechEncoderConfig
        {
            NumMelBins = 128, Layer1Channels = 4, Layer2Channels = 6, Layer3Channels = 8,
            EncoderDim = Stacks(7, 24), EncoderUnmaskedDim = Stacks(7, 16), QueryHeadDim = Stacks(7, 4), PosHeadDim = Stacks(7, 2),
            ValueHeadDim = Stacks(7, 3), NumHeads = Stacks(7, 4), FeedforwardDim = Stacks(7, 32), PosDim = 8,
            ChunkSize = random.Next(2) == 0 ? 8 : 16, LeftContextFrames = random.Next(2) == 0 ? 256 : 64, SegSize = 10, Hidden = 16, OutputDim = 12,
        },
        _ => new SpeechEncoderConfig
        {
            NumMelBins = 40, Layer1Channels = 2, Layer2Channels = 3, Layer3Channels = 5, OutputDownsamplingFactor = 2,
            DownsamplingFactor = [1, 3, 1], NumEncoderLayers = [1, 2, 1], EncoderDim = [16, 28, 20], EncoderUnmaskedDim = Stacks(3, 12),
            QueryHeadDim = [4, 3, 5], PosHeadDim = Stacks(3, 3), ValueHeadDim = [2, 5, 3], NumHeads = [2, 3, 1], FeedforwardDim = [24, 36, 20],
            PosDim = 6, CnnModuleKernel = [5, 3, 1], ChunkSize = 3 * random.Next(1, 3), LeftContextFrames = 9, SegSize = 3, Hidden = 10, OutputDim = 5,
        },
    };

    private static int[] Stacks(int count, int value) => Enumerable.Repeat(value, count).ToArray();

    [Theory]
    [InlineData("release-structure")]
    [InlineData("odd-sizes")]
    public void StreamedRowsEqualTheOfflineRowsForEverySplit(string kind)
    {
        int seed = Environment.TickCount ^ kind.GetHashCode();
        var random = new Random(seed);
        var config = Config(kind, random);
        using var directory = TestPaths.CreateTemp();
        using var tensors = TensorSet.OpenFile(RandomSpeechCheckpoint.Write(directory.Path, RandomSpeechCheckpoint.Tensors(config, random, someBf16: true)), "speech_encoder.safetensors");
        using var encoder = SpeechEncoder.Load(tensors, config, SharedBackends.Cpu, new WeightBindings());
        foreach (int frames in new[] { random.Next(9, 40), random.Next(40, 700) })
        {
            var fbank = RandomSpeechCheckpoint.Fbank(random, frames, config.NumMelBins);
            var offline = encoder.EncodeOffline(fbank, frames);
            Assert.Equal((offline.EncoderFrames + config.SegSize - 1) / config.SegSize, offline.Rows);
            foreach (string split in new[] { "all", "one-frame", "random", "random-with-empty" })
            {
                var pieces = Split(split, frames, random);
                using var stream = encoder.CreateStream();
                var rows = new List<float[]>();
                int pushed = 0;
                foreach (int piece in pieces)
                {
                    int emitted = stream.Push(fbank.AsSpan(pushed * config.NumMelBins, piece * config.NumMelBins), piece, rows);
                    pushed += piece;
                    Assert.Equal(rows.Count, stream.RowsEmitted);
                    Assert.True(rows.Count == FinalRows(config, pushed, offline.Rows),
                        $"{split} (seed {seed}): {rows.Count} rows out after {pushed} of {frames} fbank frames, {FinalRows(config, pushed, offline.Rows)} are final (last push gave {emitted})");
                }
                stream.Finish(rows);
                Assert.Equal(offline.Rows, rows.Count);
                Assert.Equal(offline.EncoderFrames, stream.EncoderFrames);
                var streamed = rows.SelectMany(r => r).ToArray();
                double error = Numeric.RelativeL2<float>(streamed, offline.Embeddings);
                Assert.True(error <= 1e-5, $"{kind} {split}, {frames} fbank frames (seed {seed}): streamed rows differ from offline by {error:E2}");
            }
        }
    }

    /// <summary>Rows whose every input is final after <paramref name="fbankFrames"/> frames (the stream has not ended).</summary>
    public static int FinalRows(SpeechEncoderConfig config, long fbankFrames, int totalRows)
    {
        int rows = 0;
        while (rows < totalRows)
        {
            // The row's last encoder frame, at 50 Hz, and the last frame of its chunk.
            long last = (long)config.OutputDownsamplingFactor * ((long)config.SegSize * (rows + 1) - 1) + config.OutputDownsamplingFactor - 1;
            long j = last / config.ChunkSize * config.ChunkSize + config.ChunkSize - 1;
            if (2 * j + 15 > fbankFrames)
                break;
            rows++;
        }
        return rows;
    }

    private static List<int> Split(string kind, int frames, Random random)
    {
        var pieces = new List<int>();
        if (kind == "all")
        {
            pieces.Add(frames);
            return pieces;
        }
        for (int left = frames; left > 0;)
        {
            int piece = kind switch
            {
                "one-frame" => 1,
                "random" => Math.Min(left, random.Next(1, 90)),
                _ => Math.Min(left, random.Next(0, 40)),
            };
            pieces.Add(piece);
            left -= piece;
        }
        return pieces;
    }
}
