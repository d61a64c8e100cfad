using System.Globalization;
using System.Text;

namespace Ellsa.Perf.Gpu;

/// <summary>One measured figure beside its floor, the eager PyTorch figure and the goal.</summary>
public sealed record ResultRow(string Figure, double? Exact, double? Fast, double? Torch, double Floor, string FloorBasis, string Goal);

/// <summary>The markdown table the run leaves in $OUT (and that goes into perf/RESULTS.md).</summary>
public sealed class ResultsTable
{
    private readonly List<ResultRow> _rows = new();
    private readonly List<string> _notes = new();

    public void Add(ResultRow row) => _rows.Add(row);

    public void Note(string note) => _notes.Add(note);

    public string ToMarkdown(string title, IEnumerable<string> header)
    {
        var s = new StringBuilder();
        s.AppendLine($"# {title}").AppendLine();
        foreach (var line in header)
            s.AppendLine(line);
        s.AppendLine();
        s.AppendLine("| figure | ILGPU exact (ms) | ILGPU fast (ms) | PyTorch eager (ms) | floor (ms) | floor basis | exact ÷ floor | goal |");
        s.AppendLine("| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |");
        foreach (var r in _rows)
        {
            s.AppendLine($"| {r.Figure} | {F(r.Exact)} | {F(r.Fast)} | {F(r.Torch)} | {F(r.Floor)} | {r.FloorBasis} | " +
                         $"{(r.Exact is { } e ? (e / r.Floor).ToString("F2", CultureInfo.InvariantCulture) + "×" : "–")} | {r.Goal} |");
        }
        if (_notes.Count > 0)
        {
            s.AppendLine();
            foreach (var note in _notes)
                s.AppendLine($"- {note}");
        }
        return s.ToString();
    }

    private static string F(double? value) => value is { } v ? v.ToString(v < 10 ? "F3" : "F1", CultureInfo.InvariantCulture) : "–";
}
