using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Ellsa.Cli.Infrastructure;
using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Runtime.Codecs.SpeechOut;

namespace Ellsa.Cli.Commands;

/// <summary>
/// <c>ellsa speak</c>: speech tokens, or the speech expert's hidden rows through generator_proj and the
/// speech-token LM, to the 24 kHz waveform (flow, HiFT), offline or through the windowed loop.
/// </summary>
public static class SpeakCommand
{
    /// <summary>The largest --stream-step: the authors' offline setting is 5000.</summary>
    private const int MaxStep = 1 << 20;

    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model")
        {
            Description = "Model directory with ellsa.json (its \"speech_decoder\" section; released values when absent), " +
                          $"{SpeechDecoderConfig.DefaultPromptFile} (the flow's prompt and noise) and either {SpeechDecoderConfig.DefaultWeightsFile} " +
                          "or a checkpoint holding speech_expert.generator_proj.* and speech_expert.generator.{llm,flow,hift}.*",
            Required = true,
        };
        var tokens = new Option<FileInfo?>("--tokens")
        {
            Description = "T.json {\"tokens\": [ids]}: speech tokens (0 … flow.vocab_size − 1, 25 per second) → flow → HiFT",
        };
        var hidden = new Option<FileInfo?>("--hidden")
        {
            Description = "H.json {\"hidden\": [[generator_proj.input_size floats] × n]}: the speech expert's last hidden rows, one per text " +
                          "token, → generator_proj → the speech-token LM (the evaluation's driver) → flow → HiFT",
        };
        var output = CommonOptions.Output(
            "OUT.json to write: {\"tokens\": [...], \"mel\": [[80 floats] per frame], \"sample_rate\": r, \"samples\": [...]} " +
            "plus \"first_logits\" (llm_decoder's raw output at the first decode step) with --hidden");
        var wav = new Option<FileInfo?>("--wav") { Description = "Also write the waveform as a 16-bit PCM mono WAV at the decoder's sample rate" };
        var step = new Option<int?>("--stream-step")
        {
            Description = "Synthesise through the authors' windowed loop with N tokens per window (the evaluation's step: 3-token overlap, " +
                          "8-frame mel cache, source cache, Hamming crossfade; at least the speaker's minimum, 7 at the release) and report when " +
                          "each piece became ready; without it one offline call",
        };
        var greedy = new Option<bool>("--greedy")
        {
            Description = "With --hidden: the speech LM picks the best token the authors' loop accepts instead of RAS sampling",
        };
        var deterministic = new Option<bool>("--deterministic")
        {
            Description = "HiFT's sine phases and noise zero (what the goldens freeze); otherwise drawn (seeded by --seed)",
        };
        var seed = new Option<int?>("--seed") { Description = "Seed for RAS sampling and HiFT's phases and noise (default: a different run each time)" };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var command = new Command("speak",
            "Speak as the released model does: CosyVoice2 driven by the speech expert's hidden states. With --hidden, generator_proj and the " +
            "speech-token LM turn hidden rows into speech tokens (8 rows : 25 tokens, then the EOS phase); the flow (Conformer encoder, " +
            "10-step flow matching from the prompt file's noise) turns tokens into an 80-bin mel; HiFT turns the mel into samples " +
            "(24 kHz at the release). Give --tokens or --hidden.\n\nExamples:\n" +
            "  ellsa speak --model weights/tiny --tokens tokens.json --output speech.json --wav speech.wav --deterministic\n" +
            "  ellsa speak --model weights/tiny --hidden hidden.json --output speech.json --greedy --stream-step 10")
        {
            model, tokens, hidden, output, wav, step, greedy, deterministic, seed, device, threads,
        };
        command.SetAction(result => ErrorReporting.Run(() => Execute(new Request(
            result.GetValue(model)!, result.GetValue(tokens), result.GetValue(hidden), result.GetValue(output)!, result.GetValue(wav),
            result.GetValue(step), result.GetValue(greedy), result.GetValue(deterministic), result.GetValue(seed)),
            result.GetValue(device)!, result.GetValue(threads))));
        return command;
    }

    private sealed record Request(DirectoryInfo Model, FileInfo? Tokens, FileInfo? Hidden, FileInfo Output, FileInfo? Wav, int? Step,
        bool Greedy, bool Deterministic, int? Seed)
    {
        public FileInfo Input => Tokens ?? Hidden!;
    }

    private static int Execute(Request request, string device, int threads)
    {
        if ((request.Tokens is null) == (request.Hidden is null))
            throw new UserError("give exactly one of --tokens T.json and --hidden H.json");
        if (request.Step is { } s && (s < 1 || s > MaxStep))
            throw new UserError($"--stream-step {s}: must be 1…{MaxStep}");
        if (request.Greedy && request.Tokens is not null)
            throw new UserError("--greedy chooses the speech LM's tokens: it needs --hidden");
        using var destination = OutputFile.Open(request.Output.FullName, request.Input.FullName);
        using var wavFile = request.Wav is null ? null : OutputFile.Open(request.Wav.FullName, request.Input.FullName, "--wav");
        // The config and the input are checked before any weight loads: a bad file fails at once.
        var config = SpeechDecoderConfig.ReadDirectory(request.Model.FullName);
        var ids = request.Tokens is { } t ? SpeakInput.ReadTokens(t, config) : null;
        var rows = request.Hidden is { } h ? SpeakInput.ReadHidden(h, config) : default;

        using var backend = CommonOptions.CreateBackend(device, threads);
        using var speaker = SpeechSpeaker.Load(request.Model.FullName, backend);
        if (request.Step is { } windowStep && windowStep < speaker.MinimumWindowStep)
            throw new UserError($"--stream-step {windowStep}: windows of fewer than {speaker.MinimumWindowStep} tokens cannot fill the caches " +
                                $"({speaker.Config.Streaming.MelCacheLen} mel frames, {speaker.Config.Streaming.SourceCacheLen} samples) with this prompt");
        var hiftOptions = request.Deterministic ? HiftOptions.Deterministic
            : request.Seed is { } seed ? HiftOptions.Seeded(seed) : HiftOptions.Random();
        var wave = speaker.CreateWaveStream(request.Step, hiftOptions);
        var clock = Stopwatch.StartNew();
        var pieces = new List<WavePiece>();
        float[]? firstLogits = null;
        if (ids is not null)
            Report(pieces, wave.Feed(ids), clock, speaker.SampleRate, request.Step);
        else
        {
            using var lm = speaker.CreateLmStream(new SpeechLmOptions { Greedy = request.Greedy, Seed = request.Seed });
            // Rows arrive a call's worth at a time, as the session hands them over; each call's tokens go on to the windows at once.
            int width = config.GeneratorProj.InputSize, chunk = config.Llm.TextChunk;
            for (int first = 0; first < rows.Rows && lm.State == SpeechLmState.Running; first += chunk)
            {
                int count = Math.Min(chunk, rows.Rows - first);
                Report(pieces, wave.Feed(lm.Feed(rows.Values.AsSpan(first * width, count * width), count)), clock, speaker.SampleRate, request.Step);
            }
            if (lm.State == SpeechLmState.Running)
                Report(pieces, wave.Feed(lm.Finish()), clock, speaker.SampleRate, request.Step);
            firstLogits = lm.FirstLogits.ToArray();
            ids = lm.Tokens.ToArray();
            if (lm.State == SpeechLmState.Abandoned)
            {
                // The authors' driver breaks out of such a segment before synthesising any of it.
                Console.Error.WriteLine("note: RAS drew EOS past max_trials; the authors' driver drops such a segment, so it has no audio");
                wave.Reset();
                pieces.Clear();
            }
        }
        Report(pieces, wave.Finish(), clock, speaker.SampleRate, request.Step);
        var speech = WavePiece.Concat(pieces.Count == 0 ? [WavePiece.Empty] : pieces);
        double ms = clock.Elapsed.TotalMilliseconds, seconds = speech.Samples.Length / (double)speaker.SampleRate;

        using (var json = new Utf8JsonWriter(destination.Stream))
        {
            json.WriteStartObject();
            WriteArray(json, "tokens", ids);
            json.WriteStartArray("mel");
            for (int f = 0; f < speech.MelFrames; f++)
                WriteArray(json, null, speech.MelFrame(f));
            json.WriteEndArray();
            json.WriteNumber("sample_rate", speaker.SampleRate);
            WriteArray(json, "samples", speech.Samples);
            if (firstLogits is not null)
                WriteArray(json, "first_logits", firstLogits);
            json.WriteEndObject();
        }
        if (wavFile is not null)
        {
            WavFile.WritePcm16(wavFile.Stream, speech.Samples, speaker.SampleRate);
            wavFile.Commit();
        }
        destination.Commit();
        Console.Error.WriteLine($"{ids.Length} speech tokens → {speech.MelFrames} mel frames → {seconds:F2} s of audio at {speaker.SampleRate} Hz " +
                                $"in {ms:F0} ms ({(seconds > 0 ? ms / 1000 / seconds : 0):F3} s per audio second){(request.Step is { } n ? $", windows of {n} tokens ({wave.Windows} windows)" : ", offline")}");
        return 0;
    }

    /// <summary>Keeps a piece and, in the windowed loop, says when it became ready.</summary>
    private static void Report(List<WavePiece> pieces, WavePiece piece, Stopwatch clock, int rate, int? step)
    {
        if (piece.IsEmpty)
            return;
        double start = pieces.Sum(p => p.Samples.Length) / (double)rate;
        pieces.Add(piece);
        if (step is not null)
            Console.Error.WriteLine($"at {clock.Elapsed.TotalMilliseconds:F0} ms: audio {start:F3}…{start + piece.Samples.Length / (double)rate:F3} s ready");
    }

    private static void WriteArray(Utf8JsonWriter json, string? name, IEnumerable<int> values)
    {
        if (name is null)
            json.WriteStartArray();
        else
            json.WriteStartArray(name);
        foreach (int v in values)
            json.WriteNumberValue(v);
        json.WriteEndArray();
    }

    private static void WriteArray(Utf8JsonWriter json, string? name, float[] values)
    {
        if (name is null)
            json.WriteStartArray();
        else
            json.WriteStartArray(name);
        foreach (float v in values)
            json.WriteNumberValue(v);
        json.WriteEndArray();
    }
}
