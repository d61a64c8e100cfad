using Ellsa.Runtime.Decoding;
using Ellsa.Runtime.Duplex;
using Ellsa.Runtime.Moe;

namespace Ellsa.Tests.Duplex;

/// <summary>
/// SessionOptions are checked at CreateSession against stated bounds, before the KV cache is
/// sized from them, and each error names the option and the bound (issue 8, item 10).
/// </summary>
public sealed class SessionOptionsTests : IClassFixture<SessionGoldenTests.TinyModel>
{
    private readonly Model _model;

    public SessionOptionsTests(SessionGoldenTests.TinyModel fixture) => _model = fixture.Model;

    public static TheoryData<string, SessionOptions, string> BadOptions() => new()
    {
        { "context limit past the positions", new SessionOptions { ContextLimit = 3_000_000 }, "SessionOptions.ContextLimit 3000000: must be between 16 and 8192" },
        { "context limit zero", new SessionOptions { ContextLimit = 0 }, "SessionOptions.ContextLimit 0: must be between 16 and 8192" },
        { "max text huge", new SessionOptions { Limits = new DecodeLimits(1_000_000_000, 40) }, "SessionOptions.Limits.MaxText 1000000000: must be between 1 and 4096" },
        { "max action zero", new SessionOptions { Limits = new DecodeLimits(9, 0) }, "SessionOptions.Limits.MaxAction 0: must be between 1 and 4096" },
        { "negative deadline", new SessionOptions { BlockDeadline = TimeSpan.FromSeconds(-1) }, "SessionOptions.BlockDeadline -00:00:01: must be positive" },
        { "zero deadline", new SessionOptions { BlockDeadline = TimeSpan.Zero }, "SessionOptions.BlockDeadline 00:00:00: must be positive" },
        { "negative prompt id", new SessionOptions { PromptIds = [308, -5, 309] }, "SessionOptions.PromptIds[1] is -5: token ids are 0 or more" },
        { "prompt id outside speech", new SessionOptions { PromptIds = [308, 500, 309] }, "SessionOptions.PromptIds[1] is 500, outside the speech vocabulary it is routed to" },
        { "prompt id outside vision", new SessionOptions { PromptIds = [308, 708, 900, 309] }, "SessionOptions.PromptIds[2] is 900, outside the vision vocabulary it is routed to (800 ids)" },
        { "undefined mode", new SessionOptions { Mode = (SessionMode)7 }, "SessionOptions.Mode 7" },
        { "trim above the limit", new SessionOptions { TrimAt = 1.5 }, "SessionOptions.TrimAt 1.5: must be in (0, 1]" },
        { "trim to above trim at", new SessionOptions { TrimAt = 0.8, TrimTo = 0.9 }, "SessionOptions.TrimTo 0.9: must be in (0, SessionOptions.TrimAt = 0.8]" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadOptionsFailAtCreateSessionNamingTheOptionAndTheBound(string label, SessionOptions options, string message)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var error = Assert.Throws<ArgumentException>(() => _model.CreateSession(options));
        Assert.True(error.Message.StartsWith(message, StringComparison.Ordinal), $"{label}: {error.Message}");
        Assert.DoesNotContain("(Parameter", error.Message);
        // Refused before anything is sized from the value.
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 4 << 20, label);
    }

    [Fact]
    public void TheLargestAcceptedValuesWork()
    {
        using var session = _model.CreateSession(new SessionOptions { ContextLimit = 8192, Limits = new DecodeLimits(4096, 4096), TrimAt = 1, TrimTo = 1 });
        Assert.Equal(8192, session.ContextLimit);
    }

    [Fact]
    public void NegativeIdsInABatchNameThePosition()
    {
        var error = Assert.Throws<ArgumentException>(() => new TokenBatch().AddId(3).AddId(-2));
        Assert.Equal("position 1: token id -2 is negative; token ids are 0 or more", error.Message);
    }
}
