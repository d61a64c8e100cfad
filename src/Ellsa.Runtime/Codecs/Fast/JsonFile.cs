using System.Text.Json;
using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.Fast;

/// <summary>Codec assets report problems as <see cref="FastCodecException"/>s naming the file's path.</summary>
internal static class JsonFile
{
    public static JsonDocument Parse(string path) => JsonFiles.Parse(path, problem => new FastCodecException($"{path}: {problem}"));

    /// <summary>An asset (processor_config.json, norm stats): a regular file with a size cap, never read until memory runs out.</summary>
    public static JsonDocument ParseAsset(string path) =>
        JsonFiles.ParseModelFile(path, ModelFile.MaxSettingsBytes, problem => new FastCodecException($"{path}: {problem}"));
}
