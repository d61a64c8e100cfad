using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Kernels.Ops.Shapes;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Vision;

/// <summary>What one frame's encoding produced: the codes and, for checks, the intermediate latents.</summary>
public sealed record VisionEncoding(int[] Codes, int Height, int Width, float[] Conv2dOut, float[] EncoderOut, float[] Latent);

/// <summary>
/// The Emu3 VisionVQ tokenizer (VQ, modeling_emu3visionvq.py) loaded from a model directory's
/// <c>vision_tokenizer/</c>: <c>config.json</c>, <c>preprocessor_config.json</c> and
/// <c>model.safetensors</c> with the module names of BAAI/Emu3-VisionTokenizer. Frames go in as
/// normalised pixels [3, H, W] (see <see cref="ImagePreprocessor"/>); codes come out row-major.
/// Activations are fp32; weights stay in their stored dtype. One pass at a time per tokenizer; the
/// tensors of a pass are kept for the next (<see cref="ScratchPool"/>), so repeated frames of one
/// size allocate nothing.
/// </summary>
public sealed class VisionTokenizer : IDisposable
{
    public const string DirectoryName = "vision_tokenizer";
    public const string WeightsFileName = "model.safetensors";

    private readonly TensorSet _tensors;
    private readonly List<IDisposable> _owned = [];
    private readonly IComputeBackend _backend;
    private readonly ConvWorkspace _conv;
    private readonly ScratchPool _scratch;
    private readonly VisionEncoder _encoder;
    private readonly VisionDecoder _decoder;
    private readonly DeviceMatrix _codebook;
    private readonly DeviceTensor _codeNorms;
    private readonly object _gate = new();

    private VisionTokenizer(string directory, IComputeBackend backend)
    {
        _backend = backend;
        Config = VisionTokenizerConfig.Load(directory);
        Preprocessor = VisionPreprocessorConfig.Load(directory);
        if (Preprocessor.SpatialFactor != Config.SpatialFactor)
            throw new ConfigException($"{DirectoryName}/{VisionPreprocessorConfig.FileName}: spatial_factor is {Preprocessor.SpatialFactor}, " +
                $"but config.json's {Config.Levels} levels downsample by {Config.SpatialFactor}");
        _tensors = TensorSet.OpenFile(Path.Combine(directory, WeightsFileName), $"{DirectoryName}/{WeightsFileName}");
        try
        {
            var scope = new WeightScope(_tensors, backend, Bindings, _owned);
            _encoder = new VisionEncoder(Config, scope);
            _decoder = new VisionDecoder(Config, scope);
            var quantize = scope.Pp("quantize").Pp("embedding");
            _codebook = quantize.Matrix("weight", Config.CodebookSize, Config.EmbedDim);
            var book = quantize.Floats("weight", Config.CodebookSize, Config.EmbedDim);
            var norms = new float[Config.CodebookSize];
            for (int c = 0; c < norms.Length; c++)
            {
                double sum = 0;
                for (int i = 0; i < Config.EmbedDim; i++)
                    sum += (double)book[c * Config.EmbedDim + i] * book[c * Config.EmbedDim + i];
                norms[c] = (float)sum;
            }
            _codeNorms = scope.Upload(norms);
            _conv = new ConvWorkspace(backend, backend.PreferredPrefillRows >= 4096 ? 1L << 26 : 1L << 22);
            _scratch = new ScratchPool(backend);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public VisionTokenizerConfig Config { get; }
    public VisionPreprocessorConfig Preprocessor { get; }
    /// <summary>Every tensor the tokenizer read, for <c>inspect</c>.</summary>
    public WeightBindings Bindings { get; } = new();

    /// <summary>Tensors of model.safetensors that no module took (a checkpoint with more modules than the config says).</summary>
    public IReadOnlyList<string> UnusedTensors => Bindings.Unused(_tensors);

    /// <summary>Loads <c>DIR/vision_tokenizer</c>, or a vision_tokenizer directory itself.</summary>
    public static VisionTokenizer Load(string directory, IComputeBackend backend)
    {
        string folder = File.Exists(Path.Combine(directory, VisionTokenizerConfig.FileName)) && !Directory.Exists(Path.Combine(directory, DirectoryName))
            ? directory
            : Path.Combine(directory, DirectoryName);
        if (!Directory.Exists(folder))
            throw new CheckpointException(directory, null, $"has no {DirectoryName}/ folder (config.json, preprocessor_config.json, model.safetensors)");
        return new VisionTokenizer(folder, backend);
    }

    /// <summary>Codes of one frame of normalised pixels [3, H, W] (H and W multiples of the spatial factor).</summary>
    public VisionEncoding Encode(float[] pixels, int height, int width)
    {
        int factor = Config.SpatialFactor;
        if (height < factor || width < factor || height % factor != 0 || width % factor != 0)
            throw new ArgumentException($"a {width}×{height} frame: the tokenizer takes sides that are multiples of {factor}");
        if (pixels.Length != 3L * height * width)
            throw new ArgumentException($"{pixels.Length} pixel values for a 3×{height}×{width} frame");
        lock (_gate)
        {
            using var pass = new VisionPass(_backend, _conv, _scratch);
            var input = pass.Take(3, height, width);
            _backend.Upload(pixels, Row(input));
            var frame = _encoder.Encode2d(pass, input);
            var (encoderOut, latent) = _encoder.Temporal(pass, frame);
            int h = height / factor, w = width / factor, dim = Config.EmbedDim;

            // quantize (VQ:450-471): rows of the latent against the codebook.
            var rows = pass.Scratch.TakeMatrix(h * w, dim);
            Shapes.Permute(_backend, latent.Reshape(dim, h * w), TensorView.Of(rows, h * w, dim), 1, 0);
            var products = pass.Scratch.TakeMatrix(h * w, Config.CodebookSize);
            _backend.WeightGemm(_codebook, rows.All, products.All, null);
            var codes = new int[h * w];
            _backend.NearestCodes(products.All, TensorView.Of(_codeNorms, Config.CodebookSize), codes);
            return new VisionEncoding(codes, h, w, Download(frame), Download(encoderOut), Download(latent));
        }
    }

    /// <summary>
    /// What the model sees in the codes: the decoder's first frame, [3, 8h, 8w] in the pixels' range
    /// (about −1…1), as the authors' <c>decode</c> of a [1, h, w] code grid returns.
    /// </summary>
    public float[] Decode(int[] codes, int height, int width)
    {
        if (height < 1 || width < 1 || (long)height * width != codes.Length)
            throw new ArgumentException($"{codes.Length} codes for a {height}×{width} grid");
        if ((long)height * width * Config.SpatialFactor * Config.SpatialFactor > 4096L * 4096)
            throw new ArgumentException($"a {height}×{width} code grid decodes to more than 4096² pixels");
        int bad = Array.FindIndex(codes, c => c < 0 || c >= Config.CodebookSize);
        if (bad >= 0)
            throw new ArgumentException($"code {bad} is {codes[bad]}, outside the codebook's 0…{Config.CodebookSize - 1}");
        lock (_gate)
        {
            using var pass = new VisionPass(_backend, _conv, _scratch);
            int dim = Config.EmbedDim, n = height * width;
            var ids = _backend.AllocateIndices(n);
            try
            {
                _backend.Upload(codes, ids, 0);
                var rows = pass.Scratch.TakeMatrix(n, dim);
                _backend.Embed(_codebook, ids, 0, rows.All);
                var quant = pass.Take(dim, height, width);
                Shapes.Permute(_backend, TensorView.Of(rows, n, dim), quant.Reshape(dim, n), 1, 0);
                return Download(_decoder.Decode(pass, quant));
            }
            finally
            {
                _backend.Synchronize();
                ids.Dispose();
            }
        }
    }

    private float[] Download(TensorView view)
    {
        var values = new float[view.Count];
        _backend.Download(Row(view), values);
        return values;
    }

    /// <summary>A dense view's elements as one row slice of its [1, n] tensor.</summary>
    private static TensorSlice Row(TensorView view) => new(view.Tensor, 0, 1, view.Layout.Offset, checked((int)view.Count));

    public void Dispose()
    {
        _conv?.Dispose();
        _scratch?.Dispose();
        foreach (var item in _owned)
            item.Dispose();
        _owned.Clear();
        _tensors?.Dispose();
    }
}
