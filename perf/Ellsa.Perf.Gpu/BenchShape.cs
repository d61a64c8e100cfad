using Ellsa.Runtime.Configuration;

namespace Ellsa.Perf.Gpu;

/// <summary>
/// The model the benchmarks build: the real size (two Llama-3-8B-shaped experts, head vocabularies
/// 128271 and 184622) or a small one of the same structure that the CPU simulator can run.
/// </summary>
public sealed record BenchShape(string Name, ModelConfig Config, int SpeechVocab, int VisionVocab,
    int Prefill, int LongPrefill, int SpeechBlockTokens, int ActingBlockTokens, int History)
{
    public static BenchShape Real => new("real", new ModelConfig("(weights generated on the device)",
            ExpertConfig.ReleasedSpeech, ExpertConfig.ReleasedVision, new EllsaSettings()),
        SpeechVocab: 128271, VisionVocab: 184622, Prefill: 512, LongPrefill: 2048, SpeechBlockTokens: 20, ActingBlockTokens: 2600, History: 1024);

    public static BenchShape Small
    {
        get
        {
            var speech = ExpertConfig.ReleasedSpeech with
            {
                HiddenSize = 64, IntermediateSize = 160, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 16, VocabSize = 310,
                RopeScaling = new Llama3RopeScaling(8, 1, 4, 64),
            };
            var vision = ExpertConfig.ReleasedVision with
            {
                HiddenSize = 64, IntermediateSize = 192, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 16, VocabSize = 800,
            };
            // The tiny model's special ids (weights/tiny/ellsa.json): inside the small vocabularies.
            var tokens = new SpecialTokens
            {
                Bos = 300, SpeechEos = 301, Bot = 305, Eot = 306, Silence = 307, Bop = 308, Eop = 309, Boa = 700, Eoa = 701,
                Eof = 703, Img = 707, Boi = 708, Eoi = 709, VisualBase = 736, VisualCount = 64, ActionFirst = 370, ActionLast = 690, FastBase = 690,
            };
            return new BenchShape("small", new ModelConfig("(weights generated on the device)", speech, vision, new EllsaSettings { Tokens = tokens }),
                SpeechVocab: 317, VisionVocab: 800, Prefill: 24, LongPrefill: 48, SpeechBlockTokens: 8, ActingBlockTokens: 40, History: 32);
        }
    }

    public SpecialTokens Tokens => Config.Settings.Tokens;
}
