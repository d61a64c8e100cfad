using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Ellsa.Cli.Infrastructure;
using Ellsa.Runtime.Codecs.Speech;

namespace Ellsa.Cli.Commands;

/// <summary><c>ellsa listen</c>: 16 kHz speech to the audio embeddings the model reads (fbank, SPEAR Zipformer2, projector).</summary>
public static class ListenCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model")
        {
            Description = "Model directory with ellsa.json (its \"speech_encoder\" section; released values when absent) and either " +
                          $"{SpeechListener.ComponentFile} or a checkpoint holding speech_expert.speechencoder.* and speech_expert.speech_proj.*",
            Required = true,
        };
        var audio = new Option<FileInfo>("--audio")
        {
            Description = "WAV file: PCM 16/24/32-bit or 32-bit float, any channel count (averaged to mono), 16 kHz",
            Required = true,
        };
        var output = CommonOptions.Output(
            "OUT.json to write: {\"samples\": n, \"fbank_frames\": N, \"encoder_frames\": M, \"embeddings\": [[output_dim floats] × K]}");
        var fbank = new Option<bool>("--fbank") { Description = "Also write \"fbank\": the [N][num_mel_bins] log-mel rows the encoder read" };
        var streaming = new Option<bool>("--streaming")
        {
            Description = "Feed the audio in slices as a live session does (--slice-ms each) and write the rows as they became final; " +
                          "they equal the whole-file encoding. Prints when each row became ready.",
        };
        var slice = new Option<int>("--slice-ms")
        {
            Description = "With --streaming: milliseconds of audio per slice (1 to 60000; default 1000, one block)",
            DefaultValueFactory = _ => 1000,
        };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var command = new Command("listen",
            "Encode speech as the released model hears it: lhotse's 128-bin fbank, the SPEAR Zipformer2 encoder (chunk-causal, 50 Hz), " +
            "10-frame stacking and the projector: 5 embeddings per second of audio. Streaming emits each embedding once the audio it " +
            "depends on has arrived: 137.5–257.5 ms past each block's end at the released chunk size.\n\nExamples:\n" +
            "  ellsa listen --model weights/tiny --audio question.wav --output embeddings.json\n" +
            "  ellsa listen --model weights/tiny --audio question.wav --output embeddings.json --streaming --slice-ms 200")
        {
            model, audio, output, fbank, streaming, slice, device, threads,
        };
        command.SetAction(result => ErrorReporting.Run(() => Execute(
            result.GetValue(model)!, result.GetValue(audio)!, result.GetValue(output)!, result.GetValue(fbank), result.GetValue(streaming),
            result.GetValue(slice), result.GetValue(device)!, result.GetValue(threads))));
        return command;
    }

    private static int Execute(DirectoryInfo directory, FileInfo audio, FileInfo output, bool writeFbank, bool streaming, int sliceMs,
        string device, int threads)
    {
        if (sliceMs is < 1 or > 60000)
            throw new UserError($"--slice-ms {sliceMs}: must be 1…60000");
        using var destination = OutputFile.Open(output.FullName, audio.FullName);
        // Read the audio before the encoder loads: a bad file fails at once.
        var wav = WavInput.Read(audio);
        // The subsampling's three 3×3 convs and its ConvNeXt need 9 fbank frames for one encoder frame (the authors' code asserts on fewer).
        if (SpeechEncoderConfig.EncoderFrames(LhotseFbank.FrameCount(wav.Samples.Length)) == 0)
            throw new UserError($"{audio.Name}: {wav.Samples.Length} samples ({wav.Samples.Length * 1000.0 / LhotseFbank.SampleRate:F1} ms) give no encoder frame; " +
                                $"the speech encoder needs at least {MinSamples} samples ({MinSamples * 1000.0 / LhotseFbank.SampleRate:F1} ms)");
        using var backend = CommonOptions.CreateBackend(device, threads);
        using var listener = SpeechListener.Load(directory.FullName, backend);
        var clock = Stopwatch.StartNew();
        float[] fbank = LhotseFbank.Compute(wav.Samples, listener.Config.NumMelBins);
        int frames = LhotseFbank.FrameCount(wav.Samples.Length);
        float[][] rows;
        int encoderFrames;
        if (streaming)
            (rows, encoderFrames) = Stream(listener, wav.Samples, sliceMs);
        else
        {
            var encoding = listener.Encoder.EncodeOffline(fbank, frames);
            encoderFrames = encoding.EncoderFrames;
            rows = Split(encoding.Embeddings, encoding.Rows);
        }
        double ms = clock.Elapsed.TotalMilliseconds;
        double seconds = wav.Samples.Length / (double)LhotseFbank.SampleRate;

        using (var json = new Utf8JsonWriter(destination.Stream))
        {
            json.WriteStartObject();
            json.WriteNumber("samples", wav.Samples.Length);
            json.WriteNumber("fbank_frames", frames);
            json.WriteNumber("encoder_frames", encoderFrames);
            Matrix(json, "embeddings", rows);
            if (writeFbank)
                Matrix(json, "fbank", Split(fbank, frames));
            json.WriteEndObject();
        }
        destination.Commit();
        Console.Error.WriteLine(
            $"{rows.Length} embeddings from {seconds:F2} s of audio ({frames} fbank frames, {encoderFrames} encoder frames) in {ms:F0} ms, " +
            $"{ms / 1000 / seconds:F3} s per audio second{(streaming ? $", streamed in {sliceMs} ms slices" : "")}");
        return 0;
    }

    /// <summary>Samples for 9 fbank frames ((n + 80) / 160 ≥ 9), the fewest that give an encoder frame.</summary>
    private const int MinSamples = 9 * 160 - 80;

    /// <summary>The file as a live stream: one slice at a time, reporting when each row became final.</summary>
    private static (float[][] Rows, int EncoderFrames) Stream(SpeechListener listener, float[] samples, int sliceMs)
    {
        using var stream = listener.CreateStream();
        var rows = new List<float[]>();
        int slice = Math.Max(1, sliceMs * LhotseFbank.SampleRate / 1000);
        bool live = !Console.IsErrorRedirected;
        for (int start = 0; start < samples.Length; start += slice)
        {
            int before = rows.Count;
            stream.Push(samples.AsSpan(start, Math.Min(slice, samples.Length - start)), rows);
            if (live)
                Console.Error.Write($"\r{stream.SamplesSeen / (double)LhotseFbank.SampleRate:F2} s in, {rows.Count} rows final…");
            else if (rows.Count > before)
                Console.Error.WriteLine($"at {stream.SamplesSeen / (double)LhotseFbank.SampleRate:F3} s: rows {before}…{rows.Count - 1} final");
        }
        stream.Finish(rows);
        if (live)
            Console.Error.Write("\r" + new string(' ', 50) + "\r");
        return (rows.ToArray(), stream.EncoderFrames);
    }

    private static float[][] Split(float[] flat, int rows)
    {
        int width = rows == 0 ? 0 : flat.Length / rows;
        return Enumerable.Range(0, rows).Select(r => flat.AsSpan(r * width, width).ToArray()).ToArray();
    }

    private static void Matrix(Utf8JsonWriter json, string name, float[][] rows)
    {
        json.WriteStartArray(name);
        foreach (var row in rows)
        {
            json.WriteStartArray();
            foreach (float v in row)
                json.WriteNumberValue(v);
            json.WriteEndArray();
        }
        json.WriteEndArray();
    }
}
