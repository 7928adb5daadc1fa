using System.Text.Json;
using PolicyEngine.Json;
using PolicyEngine.Json.Numbers;
using PolicyEngine.Matching;

namespace PolicyEngine.Tests.Evaluation;

/// <summary>The leaf operators run on every call; these pin down that their common paths allocate nothing.</summary>
public class HotPathAllocationTests
{
    private static long AllocatedBy(Action action)
    {
        action();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            action();
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void TryCompareTo_IntegerAndHostileNumbers_AllocatesNothing()
    {
        using JsonDocument doc = JsonDocument.Parse("[10000, 1e2, 0.5, 1e999999999, -1e-999999999, " + new string('9', 10_000) + "]");
        Assert.True(NumberOperand.TryCreate(doc.RootElement[0], out NumberOperand? limit));
        int sink = 0;
        long bytes = AllocatedBy(() =>
        {
            foreach (JsonElement item in doc.RootElement.EnumerateArray())
            {
                limit.TryCompareTo(item, out int result);
                sink += result;
                ExactNumber.IsNonNegativeInteger(item, out long value);
                sink += (int)value;
            }
        });
        Assert.Equal(0, bytes);
    }

    [Fact]
    public void DeepEquals_SmallValuesWithEscapesAndNumbers_AllocatesNothing()
    {
        using JsonDocument a = JsonDocument.Parse("{\"id\": \"c\\u0041\\ud800\", \"tags\": [1, 2e0, null, true], \"n\": {\"x\": 1e400}}");
        using JsonDocument b = JsonDocument.Parse("{\"n\": {\"x\": 10e399}, \"tags\": [1.0, 2, null, true], \"id\": \"cA\\ud800\"}");
        bool equal = false;
        long bytes = AllocatedBy(() => equal = JsonValueComparer.DeepEquals(a.RootElement, b.RootElement));
        Assert.True(equal);
        Assert.Equal(0, bytes);
    }

    [Fact]
    public void IsMatch_AndIsUnder_AllocateNothing()
    {
        Assert.True(PathUnder.TryNormalizeRoot("/workspace", out NormalizedPath root));
        bool matched = false;
        bool under = false;
        long bytes = AllocatedBy(() =>
        {
            matched = Glob.IsMatch("fs_*_file?", "fs_read_files");
            under = PathUnder.IsUnder("/workspace/./a//b/../c", in root);
        });
        Assert.True(matched);
        Assert.True(under);
        Assert.Equal(0, bytes);
    }
}
