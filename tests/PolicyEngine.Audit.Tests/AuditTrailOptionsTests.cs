using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace PolicyEngine.Audit.Tests;

/// <summary>The trail validates its whole options object when it is opened and takes its clock as a parameter.</summary>
public class AuditTrailOptionsTests
{
    [Fact]
    public void ToFile_SeveralWrongOptions_NamesEveryOneInOneException()
    {
        var path = Path.Combine(AuditTrailTests.NewDirectory(), "audit.jsonl");

        var error = Assert.Throws<ArgumentException>(() => AuditTrail.ToFile(path, new AuditTrailOptions { Capacity = 0, MaxFileBytes = -1 }));

        Assert.Equal("options", error.ParamName);
        Assert.StartsWith("options are not valid: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("AuditTrailOptions.Capacity must be at least 1 (it is 0)", error.Message, StringComparison.Ordinal);
        Assert.Contains("AuditTrailOptions.MaxFileBytes must not be negative", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void ToStream_SeveralWrongOptions_NamesEveryOneInOneException()
    {
        using var stream = new MemoryStream();

        var error = Assert.Throws<ArgumentException>(() => AuditTrail.ToStream(stream, new AuditTrailOptions { Capacity = -5, MaxFileBytes = -1 }));

        Assert.Equal("options", error.ParamName);
        Assert.Contains("AuditTrailOptions.Capacity", error.Message, StringComparison.Ordinal);
        Assert.Contains("AuditTrailOptions.MaxFileBytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ToFileAndToStream_DefaultOptions_Open()
    {
        var path = Path.Combine(AuditTrailTests.NewDirectory(), "audit.jsonl");
        await using (AuditTrail.ToFile(path, new AuditTrailOptions()))
        {
        }

        await using (AuditTrail.ToFile(path))
        {
        }

        await using (AuditTrail.ToStream(new MemoryStream()))
        {
        }

        Assert.True(AuditVerifier.Verify([path]).IsIntact);
    }

    [Fact]
    public async Task ToStream_TimeProvider_StampsTheTrailsOwnRecords()
    {
        var start = new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero);
        var stream = new MemoryStream();
        await using (var trail = AuditTrail.ToStream(stream, leaveOpen: true, timeProvider: new FakeTimeProvider(start)))
        {
            trail.RecordPolicy("enforced", "policy.json", "loaded", "v1");
        }

        var lines = System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            Assert.StartsWith("2031-05-06T07:08:09", JsonDocument.Parse(line).RootElement.GetProperty("time").GetString(), StringComparison.Ordinal);
        }
    }
}
