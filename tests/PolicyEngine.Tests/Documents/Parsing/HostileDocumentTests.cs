using System.Diagnostics;
using System.Text;
using PolicyEngine.Documents.Parsing;

namespace PolicyEngine.Tests.Documents.Parsing;

/// <summary>
/// Documents written to hurt the parser: absurd nesting, sizes and error counts, broken text. Each must be rejected
/// (or accepted) cleanly: only <see cref="PolicyValidationException"/> from <c>Parse</c>, never a crash, and in
/// reasonable time.
/// </summary>
public class HostileDocumentTests
{
    private const string Header = "{\"version\":\"2\",\"default\":\"deny\",\"tools\":{";

    public static TheoryData<string> DeepNestings() => new("array", "object");

    private static string Nested(string kind, int depth) => kind == "array"
        ? new string('[', depth) + new string(']', depth)
        : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);

    [Theory]
    [MemberData(nameof(DeepNestings))]
    public void Parse_String_Nested100000Deep_RejectedAtRoot(string kind)
    {
        var json = Nested(kind, 100_000);

        var ok = PolicyDocument.TryParse(json, out _, out var errors);
        var thrown = Assert.Throws<PolicyValidationException>(() => PolicyDocument.Parse(json));

        Assert.False(ok);
        var error = Assert.Single(errors);
        Assert.Equal(string.Empty, error.Pointer);
        Assert.Contains("128", error.Message, StringComparison.Ordinal);
        Assert.Equal(errors, thrown.Errors);
    }

    [Theory]
    [MemberData(nameof(DeepNestings))]
    public void Parse_Utf8_Nested100000Deep_RejectedAtRoot(string kind)
    {
        var utf8 = Encoding.UTF8.GetBytes(Nested(kind, 100_000));

        var ok = PolicyDocument.TryParse(utf8, out _, out var errors);
        var thrown = Assert.Throws<PolicyValidationException>(() => PolicyDocument.Parse(utf8));

        Assert.False(ok);
        var error = Assert.Single(errors);
        Assert.Equal(string.Empty, error.Pointer);
        Assert.Equal(errors, thrown.Errors);
    }

    [Fact]
    public void Parse_UnclosedNesting100000Deep_RejectedAtRoot()
    {
        var ok = PolicyDocument.TryParse(new string('[', 100_000), out _, out var errors);

        Assert.False(ok);
        Assert.Equal(string.Empty, Assert.Single(errors).Pointer);
    }

    [Fact]
    public void Parse_50MegabyteStringValue_RejectedForSize()
    {
        var json = "{\"version\":\"2\",\"default\":\"deny\",\"$schema\":\"" + new string('x', 50_000_000) + "\"}";

        var ok = PolicyDocument.TryParse(json, out _, out var errors);

        Assert.False(ok);
        var error = Assert.Single(errors);
        Assert.Equal(string.Empty, error.Pointer);
        Assert.Contains("too large", error.Message, StringComparison.Ordinal);
        Assert.Contains(PolicyParser.MaxDocumentBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Utf8_50MegabyteStringValue_RejectedForSize()
    {
        var utf8 = Encoding.UTF8.GetBytes("{\"version\":\"2\",\"default\":\"deny\",\"$schema\":\"" + new string('x', 50_000_000) + "\"}");

        var thrown = Assert.Throws<PolicyValidationException>(() => PolicyDocument.Parse(utf8));

        var error = Assert.Single(thrown.Errors);
        Assert.Equal(string.Empty, error.Pointer);
        Assert.Contains("too large", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_String_UnderLimitInCharsButOverInUtf8Bytes_RejectedForSize()
    {
        // 6 million three-byte characters: 6 M chars (under the 16 MiB limit) but 18 MB of UTF-8.
        var json = "{\"version\":\"2\",\"default\":\"deny\",\"$schema\":\"" + new string('€', 6_000_000) + "\"}";

        var ok = PolicyDocument.TryParse(json, out _, out var errors);

        Assert.False(ok);
        var error = Assert.Single(errors);
        Assert.Equal(string.Empty, error.Pointer);
        Assert.Contains("too large", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OneMillionTools_RejectedForSize()
    {
        var json = Tools(1_000_000, i => $"\"tool_{i:D7}\":{{}}");
        Assert.True(Encoding.UTF8.GetByteCount(json) > PolicyParser.MaxDocumentBytes);

        var ok = PolicyDocument.TryParse(json, out _, out var errors);

        Assert.False(ok);
        Assert.Contains("too large", Assert.Single(errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_JustUnderSizeLimitWithManyTools_CompletesInReasonableTime()
    {
        // ~400k tool entries in just under 16 MiB. Measured at ~4-5 s (Debug, 2 cores); the bound leaves room for a
        // busy machine. (A document of the same size whose entries each carry a predicate takes ~17 s, most of it in
        // the JSON Schema safety net, so this test keeps to plain entries.)
        const string Entry = "\"tool_name_{0:D7}\":{{\"action\":\"allow\"}}";
        var one = string.Format(System.Globalization.CultureInfo.InvariantCulture, Entry, 0).Length + 1;
        var count = (PolicyParser.MaxDocumentBytes - 200) / one;
        var json = Tools(count, i => string.Format(System.Globalization.CultureInfo.InvariantCulture, Entry, i));
        var size = Encoding.UTF8.GetByteCount(json);
        Assert.InRange(size, PolicyParser.MaxDocumentBytes - 1000, PolicyParser.MaxDocumentBytes);

        var clock = Stopwatch.StartNew();
        PolicyDocument? document = null;
        var thrown = Record.Exception(() => document = PolicyDocument.Parse(json));
        clock.Stop();

        Assert.True(thrown is null or PolicyValidationException, $"unexpected {thrown}");
        Assert.True(thrown is not null || document!.Tools.Count == count);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"parsing {count} tools in {size} bytes took {clock.Elapsed}");
        Assert.InRange(count, 400_000, 450_000);
    }

    [Fact]
    public void Parse_Not60Deep_ParsesAndRoundTrips()
    {
        // 60 nested "not"s sit at depth 66, within the 128-level limit.
        var predicate = "{\"path\":\"args.a\",\"op\":\"eq\",\"value\":1}";
        for (var i = 0; i < 60; i++)
        {
            predicate = "{\"not\":" + predicate + "}";
        }

        var json = Header + "\"t\":{\"require\":[" + predicate + "]}}}";

        var document = PolicyDocument.Parse(json);

        Assert.Equal(document, PolicyDocument.Parse(document.ToJson()));
        var decision = new PolicyEvaluator(Policy.Compile(document)).Evaluate(new PolicyIdentity("u"), "t", Args("{\"a\":1}"));
        Assert.Equal(DecisionKind.Allow, decision.Kind); // an even number of "not"s around a = 1
    }

    [Fact]
    public void Parse_Not10000Deep_RejectedAtRoot()
    {
        var json = Header + "\"t\":{\"require\":[" + string.Concat(Enumerable.Repeat("{\"not\":", 10_000))
            + "{\"path\":\"args.a\",\"op\":\"exists\",\"value\":true}" + new string('}', 10_000) + "]}}}";

        var ok = PolicyDocument.TryParse(json, out _, out var errors);

        Assert.False(ok);
        Assert.Equal(string.Empty, Assert.Single(errors).Pointer);
    }

    [Fact]
    public void Parse_NestingAtTheLimit_Accepted_AndOneMore_Rejected()
    {
        // An enum in an args_schema holds free-form JSON, so the nesting can be made exactly 128
        // (root, tools, t, args_schema, enum = 5 levels, then the nested arrays).
        static string Doc(int depth) => Header + "\"t\":{\"args_schema\":{\"enum\":[" + Nested("array", depth - 5) + "]}}}}";

        Assert.True(PolicyDocument.TryParse(Doc(PolicyParser.MaxDepth), out _, out var errors), string.Join(Environment.NewLine, errors));
        Assert.False(PolicyDocument.TryParse(Doc(PolicyParser.MaxDepth + 1), out _, out var deeper));
        Assert.Equal(string.Empty, Assert.Single(deeper).Pointer);
    }

    public static TheoryData<string, byte[]> InvalidUtf8() => new()
    {
        { "0xFF in a string", [0xFF] },
        { "0xFE in a string", [0xFE] },
        { "lone continuation byte", [0x80] },
        { "overlong slash (C0 AF)", [0xC0, 0xAF] },
        { "overlong NUL (C0 80)", [0xC0, 0x80] },
        { "overlong three-byte (E0 80 AF)", [0xE0, 0x80, 0xAF] },
        { "overlong four-byte (F0 80 80 AF)", [0xF0, 0x80, 0x80, 0xAF] },
        { "truncated two-byte", [0xC3] },
        { "truncated three-byte", [0xE2, 0x82] },
        { "truncated four-byte", [0xF0, 0x9F, 0x98] },
        { "UTF-8 encoded surrogate (ED A0 80)", [0xED, 0xA0, 0x80] },
        { "beyond U+10FFFF (F4 90 80 80)", [0xF4, 0x90, 0x80, 0x80] },
    };

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public void Parse_InvalidUtf8InStringValue_RejectedNamingByteOffset(string what, byte[] bad)
    {
        var prefix = Encoding.UTF8.GetBytes("{\"version\":\"2\",\"default\":\"deny\",\"$schema\":\"é");
        var utf8 = Concat(prefix, bad, Encoding.UTF8.GetBytes("x\"}"));

        AssertRejectedAtOffset(utf8, prefix.Length, what);
    }

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public void Parse_InvalidUtf8InKey_RejectedNamingByteOffset(string what, byte[] bad)
    {
        var prefix = Encoding.UTF8.GetBytes(Header + "\"tool_");
        var utf8 = Concat(prefix, bad, Encoding.UTF8.GetBytes("\":{}}}"));

        AssertRejectedAtOffset(utf8, prefix.Length, what);
    }

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public void Parse_InvalidUtf8AtEndOfDocument_RejectedNamingByteOffset(string what, byte[] bad)
    {
        var prefix = Encoding.UTF8.GetBytes("{\"version\":\"2\",\"default\":\"deny\"}");

        AssertRejectedAtOffset(Concat(prefix, bad), prefix.Length, what);
    }

    [Fact]
    public void Parse_InvalidUtf8FarIntoDocument_OffsetCountsBytesNotCharacters()
    {
        // Past several scratch-buffer lengths, after multi-byte characters, so that bytes and chars differ.
        var prefix = Encoding.UTF8.GetBytes("{\"version\":\"2\",\"default\":\"deny\",\"$schema\":\"" + string.Concat(Enumerable.Repeat("é😀a", 700)));
        var utf8 = Concat(prefix, [0xFF], Encoding.UTF8.GetBytes("\"}"));

        AssertRejectedAtOffset(utf8, prefix.Length, "0xFF after 3,500 bytes of multi-byte text");
    }

    [Fact]
    public void Parse_InvalidUtf8AfterByteOrderMark_OffsetCountsFromStartOfInput()
    {
        var prefix = Concat([0xEF, 0xBB, 0xBF], Encoding.UTF8.GetBytes("{\"version\":\"2\",\"default\":\"deny\",\"$schema\":\""));
        var utf8 = Concat(prefix, [0xFF], Encoding.UTF8.GetBytes("\"}"));

        AssertRejectedAtOffset(utf8, prefix.Length, "0xFF after a BOM");
    }

    public static TheoryData<int> LoneSurrogates() => new(0, 1, 2, 3);

    [Theory]
    [MemberData(nameof(LoneSurrogates))]
    public void Parse_StringWithLoneSurrogate_Rejected(int which)
    {
        // Built in code: an attribute argument cannot carry a lone surrogate (metadata stores strings as UTF-8).
        var (bad, at) = which switch
        {
            0 => ("\ud800", 0),
            1 => ("\udc00", 0),
            2 => ("a\ud83d", 1),
            _ => ("\ude00\ud83d", 0),
        };
        const string Prefix = "{\"version\":\"2\",\"default\":\"deny\",\"$schema\":\"";
        var json = Prefix + bad + "\"}";

        var ok = PolicyDocument.TryParse(json, out _, out var errors);
        var thrown = Assert.Throws<PolicyValidationException>(() => PolicyDocument.Parse(json));

        Assert.False(ok);
        var error = Assert.Single(errors);
        Assert.Equal(string.Empty, error.Pointer);
        Assert.Contains("surrogate", error.Message, StringComparison.Ordinal);
        Assert.Contains($"character {Prefix.Length + at}", error.Message, StringComparison.Ordinal);
        Assert.Equal(errors, thrown.Errors);
    }

    [Fact]
    public void Parse_StringWithSurrogatePair_Accepted()
    {
        var document = PolicyDocument.Parse(Header + "\"t\\ud83d\\ude00😀\":{}}}");

        Assert.Equal("t😀😀", Assert.Single(document.Tools).Name);
    }

    [Theory]
    [InlineData("tools key", Header + "\"\\ud800\":{}}}")]
    [InlineData("version", "{\"version\":\"\\ud800\",\"default\":\"deny\"}")]
    [InlineData("default", "{\"version\":\"2\",\"default\":\"\\udc00\"}")]
    [InlineData("unknown key", "{\"version\":\"2\",\"default\":\"deny\",\"\\ud800\":1}")]
    [InlineData("regex operand", Header + "\"t\":{\"require\":[{\"path\":\"args.a\",\"op\":\"regex\",\"value\":\"\\ud800\"}]}}}")]
    [InlineData("counter id", Header + "\"t\":{\"limits\":[{\"counter\":\"\\ud800\",\"window\":\"minute\",\"max\":1}]}}}")]
    [InlineData("hide entry", "{\"version\":\"2\",\"default\":\"deny\",\"hide\":[\"\\ud800\"]}")]
    public void TryParse_EscapedLoneSurrogateInPolicyString_ReportsErrorWithoutThrowing(string where, string json)
    {
        var ok = PolicyDocument.TryParse(json, out _, out var errors);

        Assert.False(ok, where);
        Assert.NotEmpty(errors);
    }

    [Fact]
    public void Parse_Utf8WithByteOrderMark_Accepted()
    {
        var utf8 = Concat([0xEF, 0xBB, 0xBF], Encoding.UTF8.GetBytes("{\"version\":\"1\",\"default\":\"allow\"}"));

        var document = PolicyDocument.Parse(utf8);

        Assert.Equal("1", document.Version);
        Assert.Equal(DefaultAction.Allow, document.Default);
    }

    [Fact]
    public void Parse_StringWithByteOrderMark_Accepted()
    {
        var document = PolicyDocument.Parse("\uFEFF{\"version\":\"2\",\"default\":\"deny\"}");

        Assert.Equal(DefaultAction.Deny, document.Default);
    }

    [Fact]
    public void Parse_TwoByteOrderMarks_Rejected()
    {
        var utf8 = Concat([0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF], Encoding.UTF8.GetBytes("{\"version\":\"2\",\"default\":\"deny\"}"));

        Assert.False(PolicyDocument.TryParse(utf8, out _, out var errors));
        Assert.Equal(string.Empty, Assert.Single(errors).Pointer);
    }

    [Fact]
    public void Parse_2000InvalidTools_ListsMaxErrorsAndCountsTheRest()
    {
        var json = Tools(2_000, i => $"\"t{i}\":{i}");

        var ok = PolicyDocument.TryParse(json, out _, out var errors);

        Assert.False(ok);
        Assert.Equal(PolicyParser.MaxErrors + 1, errors.Count);
        Assert.Equal("/tools/t0", errors[0].Pointer);
        Assert.Equal($"/tools/t{PolicyParser.MaxErrors - 1}", errors[PolicyParser.MaxErrors - 1].Pointer);
        var last = errors[^1];
        Assert.Equal(string.Empty, last.Pointer);
        Assert.Contains("1000 more problems", last.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ExactlyMaxErrorsProblems_ListsThemAllWithoutSummary()
    {
        var json = Tools(PolicyParser.MaxErrors, i => $"\"t{i}\":{i}");

        var ok = PolicyDocument.TryParse(json, out _, out var errors);

        Assert.False(ok);
        Assert.Equal(PolicyParser.MaxErrors, errors.Count);
        Assert.All(errors, e => Assert.StartsWith("/tools/t", e.Pointer, StringComparison.Ordinal));
    }

    [Fact]
    public void Load_MissingFile_ThrowsFileNotFound()
    {
        var path = Path.Combine(Path.GetTempPath(), "policyengine-missing-" + Guid.NewGuid().ToString("N") + ".json");

        Assert.Throws<FileNotFoundException>(() => PolicyDocument.Load(path));
    }

    [Fact]
    public void Load_FileInMissingDirectory_ThrowsIOException()
    {
        var path = Path.Combine(Path.GetTempPath(), "policyengine-missing-" + Guid.NewGuid().ToString("N"), "policy.json");

        var thrown = Record.Exception(() => PolicyDocument.Load(path));

        Assert.IsAssignableFrom<IOException>(thrown);
    }

    [Fact]
    public void Load_RealFile_ParsesIt()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, Concat([0xEF, 0xBB, 0xBF], Encoding.UTF8.GetBytes("{\"version\":\"1\",\"default\":\"deny\",\"tools\":{\"list\":{}}}")));

            var document = PolicyDocument.Load(path);

            Assert.Equal("list", Assert.Single(document.Tools).Name);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_InvalidFile_ThrowsPolicyValidationException()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "{\"version\":\"1\",\"default\":\"deny\",\"opp\":1}");

            var thrown = Assert.Throws<PolicyValidationException>(() => PolicyDocument.Load(path));

            Assert.Equal("/opp", Assert.Single(thrown.Errors).Pointer);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_OversizedFile_RejectedForSize()
    {
        var path = Path.GetTempFileName();
        try
        {
            using (var stream = File.OpenWrite(path))
            {
                stream.SetLength(PolicyParser.MaxDocumentBytes + 1L);
            }

            var thrown = Assert.Throws<PolicyValidationException>(() => PolicyDocument.Load(path));

            Assert.Contains("too large", Assert.Single(thrown.Errors).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertRejectedAtOffset(byte[] utf8, int offset, string what)
    {
        var ok = PolicyDocument.TryParse(utf8, out _, out var errors);
        var thrown = Record.Exception(() => PolicyDocument.Parse(utf8));

        Assert.False(ok, what);
        var error = Assert.Single(errors);
        Assert.Equal(string.Empty, error.Pointer);
        Assert.Contains("UTF-8", error.Message, StringComparison.Ordinal);
        Assert.Contains($"offset {offset}", error.Message, StringComparison.Ordinal);
        Assert.Equal(errors, Assert.IsType<PolicyValidationException>(thrown).Errors);
    }

    private static string Tools(int count, Func<int, string> entry)
    {
        var text = new StringBuilder(Header, (count * 24) + 64);
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            text.Append(entry(i));
        }

        return text.Append("}}").ToString();
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static System.Text.Json.JsonElement Args(string json) => System.Text.Json.JsonDocument.Parse(json).RootElement.Clone();
}
