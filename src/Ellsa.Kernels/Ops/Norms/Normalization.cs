using Ellsa.Kernels.Backend;

namespace Ellsa.Kernels.Ops.Norms;

/// <summary>What a normalisation subtracts and divides by.</summary>
public enum NormKind
{
    /// <summary>(x − mean) / √(var + eps) · weight + bias (LayerNorm, and GroupNorm over a group's rows).</summary>
    Standard,
    /// <summary>x / √(mean(x²) + eps) · weight (+ bias).</summary>
    Rms,
    /// <summary>Zipformer's BiasNorm: x · Scale / √(mean((x − bias)²)); the bias only centres the statistic, eps unused.</summary>
    Bias,
}

/// <summary>
/// One normalisation: each row of a [rows, width] view is one unit (a LayerNorm row, a GroupNorm
/// group, a BiasNorm frame). The affine parameters are per channel: element j of row r uses
/// parameter ((r mod <see cref="Groups"/>)·width + j) / <see cref="ElementsPerChannel"/>, which is
/// j for LayerNorm (Groups 1, ElementsPerChannel 1) and the channel for GroupNorm over
/// [N·G, C/G·H·W] rows (Groups G, ElementsPerChannel H·W).
/// </summary>
public struct NormSpec
{
    public NormKind Kind;
    public float Eps;
    public int Groups;
    public int ElementsPerChannel;
    /// <summary>BiasNorm's exp(log_scale).</summary>
    public float Scale;

    public static NormSpec LayerNorm(float eps) => new() { Kind = NormKind.Standard, Eps = eps, Groups = 1, ElementsPerChannel = 1, Scale = 1 };

    public static NormSpec RmsNorm(float eps) => new() { Kind = NormKind.Rms, Eps = eps, Groups = 1, ElementsPerChannel = 1, Scale = 1 };

    /// <summary>GroupNorm of [N, C, spatial…] seen as [N·groups, C/groups·spatial] rows.</summary>
    public static NormSpec GroupNorm(int groups, int spatial, float eps) =>
        new() { Kind = NormKind.Standard, Eps = eps, Groups = groups, ElementsPerChannel = spatial, Scale = 1 };

    public static NormSpec BiasNorm(float scale) => new() { Kind = NormKind.Bias, Eps = 0, Groups = 1, ElementsPerChannel = 1, Scale = scale };
}

/// <summary>
/// The normalisation family's contract and scalar reference. A normalisation may end with an
/// elementwise function of the elementwise family (GroupNorm then SiLU, as Emu3's blocks run them),
/// applied while the row is still in cache. BatchNorm in eval has no statistics of its own: it is a
/// per-channel scale and shift, folded from the running stats at load and run through the
/// elementwise family.
/// </summary>
public static class Normalization
{
    /// <summary>Parameters each row's elements index (see <see cref="NormSpec"/>).</summary>
    public static int ParameterCount(in NormSpec spec, int width) => (spec.Groups * width + spec.ElementsPerChannel - 1) / spec.ElementsPerChannel;

    public static void Check(in TensorView source, in TensorView destination, in NormSpec spec, in TensorView? weight, in TensorView? bias)
    {
        if (source.Rank != 2 || !source.SameShape(destination))
            throw new ArgumentException($"normalisation takes [rows, width] views of one shape, not {source} and {destination}");
        if (source.Layout.S1 != 1 || destination.Layout.S1 != 1)
            throw new ArgumentException($"normalisation needs rows with unit stride (got {source.Layout.S1} and {destination.Layout.S1}): copy the view first");
        if (spec.Groups < 1 || spec.ElementsPerChannel < 1 || source.Dim(0) % spec.Groups != 0)
            throw new ArgumentException($"normalisation of {source.Dim(0)} rows in groups of {spec.Groups} with {spec.ElementsPerChannel} elements per channel");
        if ((long)spec.Groups * source.Dim(1) % spec.ElementsPerChannel != 0)
            throw new ArgumentException($"rows of {source.Dim(1)} elements do not hold whole channels of {spec.ElementsPerChannel}");
        int parameters = ParameterCount(spec, source.Dim(1));
        if (spec.Kind == NormKind.Bias && bias is null)
            throw new ArgumentException("BiasNorm needs its bias");
        foreach (var (name, parameter) in new[] { ("weight", weight), ("bias", bias) })
        {
            if (parameter is { } p && (p.Rank != 1 || p.Dim(0) != parameters))
                throw new ArgumentException($"normalisation {name} {p} for {parameters} channels");
        }
    }

    /// <summary>The definition in double precision over host rows (unit stride, the given row strides).</summary>
    public static void Reference(ReadOnlySpan<float> source, int sourceStride, Span<float> destination, int destinationStride,
        int rows, int width, NormSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias) =>
        Reference(source, sourceStride, destination, destinationStride, rows, width, spec, weight, bias, new Elementwise.Copy());

    /// <summary>The definition in double precision, then <paramref name="then"/>'s exact form.</summary>
    public static void Reference<TFn>(ReadOnlySpan<float> source, int sourceStride, Span<float> destination, int destinationStride,
        int rows, int width, NormSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, TFn then) where TFn : struct, Elementwise.IUnaryFunctor
    {
        for (int r = 0; r < rows; r++)
        {
            var x = source.Slice(r * sourceStride, width);
            double center = 0;
            if (spec.Kind == NormKind.Standard)
            {
                foreach (float v in x)
                    center += v;
                center /= width;
            }
            double squares = 0;
            for (int j = 0; j < width; j++)
            {
                double c = spec.Kind == NormKind.Bias ? x[j] - (double)bias[Parameter(spec, width, r, j)] : x[j] - center;
                squares += c * c;
            }
            double scale = spec.Kind == NormKind.Bias ? spec.Scale / Math.Sqrt(squares / width) : 1 / Math.Sqrt(squares / width + spec.Eps);
            for (int j = 0; j < width; j++)
            {
                int p = Parameter(spec, width, r, j);
                double y = spec.Kind == NormKind.Bias ? x[j] * scale : (x[j] - center) * scale;
                if (spec.Kind != NormKind.Bias)
                {
                    if (!weight.IsEmpty)
                        y *= weight[p];
                    if (!bias.IsEmpty)
                        y += bias[p];
                }
                destination[r * destinationStride + j] = (float)then.Exact(y);
            }
        }
    }

    public static int Parameter(in NormSpec spec, int width, int row, int j) => ((row % spec.Groups) * width + j) / spec.ElementsPerChannel;
}
