using System.Globalization;
using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using PolicyEngine.Documents;

namespace PolicyEngine.Tests.Documents;

/// <summary>
/// Properties of parsing, printing and migrating documents over generated valid documents (<see cref="PolicyGenerators"/>),
/// and of parsing anything at all: random bytes, random strings, random and mutated JSON never make the parser throw,
/// and every error it reports points at a place that exists in the document.
/// </summary>
public class DocumentPropertyTests
{
    private static readonly JsonDocumentOptions Deep = new() { MaxDepth = 1024 };

    private static bool Parses(string json, out PolicyDocument document, out string problems)
    {
        var ok = PolicyDocument.TryParse(json, out var parsed, out var errors);
        document = parsed!;
        problems = ok ? string.Empty : json + Environment.NewLine + string.Join(Environment.NewLine, errors);
        return ok;
    }

    [Property(MaxTest = 300)]
    public Property Parse_GeneratedDocument_Succeeds() =>
        Prop.ForAll(PolicyGenerators.Document().ToArbitrary(), json =>
            Parses(json, out _, out var problems).Label(problems));

    [Property(MaxTest = 200)]
    public Property Parse_GeneratedDocument_Utf8AndStringAgree() =>
        Prop.ForAll(PolicyGenerators.Document().ToArbitrary(), json =>
            PolicyDocument.Parse(Encoding.UTF8.GetBytes(json)).Equals(PolicyDocument.Parse(json)));

    [Property(MaxTest = 300)]
    public Property ToJson_GeneratedDocument_RoundTripsToEqualDocumentAndIdenticalText() =>
        Prop.ForAll(PolicyGenerators.Document().ToArbitrary(), json =>
        {
            var document = PolicyDocument.Parse(json);
            var printed = document.ToJson();
            var reparsed = PolicyDocument.Parse(printed);
            return (reparsed.Equals(document) && document.Equals(reparsed) && reparsed.ToJson() == printed
                    && reparsed.GetHashCode() == document.GetHashCode() && reparsed.Version == document.Version
                    && reparsed.Tools.Count == document.Tools.Count)
                .Label(printed + Environment.NewLine + "reprinted:" + Environment.NewLine + reparsed.ToJson());
        });

    [Property(MaxTest = 200)]
    public Property ToJson_GeneratedDocument_IsIndependentOfInputKeyOrderAndSpelling() =>
        Prop.ForAll(PolicyGenerators.Document().ToArbitrary(), json =>
        {
            // Reformatting through JsonNode changes whitespace and string escapes but not the document.
            var reformatted = System.Text.Json.Nodes.JsonNode.Parse(json)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
            return PolicyDocument.Parse(reformatted).ToJson() == PolicyDocument.Parse(json).ToJson();
        });

    [Property(MaxTest = 300)]
    public Property ToJson_GeneratedDocument_ValidatesAgainstPublishedSchema() =>
        Prop.ForAll(PolicyGenerators.Document().ToArbitrary(), json =>
        {
            var document = PolicyDocument.Parse(json);
            using var printed = JsonDocument.Parse(document.ToJson(), Deep);
            var errors = PolicySchemas.Validate(printed.RootElement, document.Version);
            return (errors.Count == 0).Label(document.ToJson() + Environment.NewLine + string.Join(Environment.NewLine, errors));
        });

    [Property(MaxTest = 200)]
    public Property MigrateToLatest_GeneratedV1Document_IsV2WithSameContent() =>
        Prop.ForAll(PolicyGenerators.V1Document().ToArbitrary(), json =>
        {
            var v1 = PolicyDocument.Parse(json);
            var v2 = v1.MigrateToLatest();
            var reparsed = PolicyDocument.Parse(v2.ToJson());
            var expected = v1.ToJson().Replace("\"version\": \"1\"", "\"version\": \"2\"", StringComparison.Ordinal);
            return (v1.Version == "1" && v2.Version == PolicyDocument.LatestVersion && !v1.Equals(v2)
                    && reparsed.Equals(v2) && v2.ToJson() == expected && ReferenceEquals(v2.MigrateToLatest(), v2))
                .Label(v2.ToJson());
        });

    private sealed record Call(string Identity, string Tool, string Args, int AdvanceSeconds, bool Succeeded);

    private static Gen<(string Document, Call[] Calls)> V1DocumentWithCalls() =>
        from json in PolicyGenerators.V1Document()
        from n in Gen.Choose(1, 12)
        from calls in (from identity in Gen.Elements("alice", "bob")
                       from tool in Gen.Elements(PolicyGenerators.CallableTools(json))
                       from args in PolicyGenerators.Arguments()
                       from advance in Gen.Elements(0, 0, 1, 7, 59, 3600)
                       from succeeded in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
                       select new Call(identity, tool, args, advance, succeeded)).ArrayOf(n)
        select (json, calls);

    [Property(MaxTest = 150)]
    public Property Evaluate_V1DocumentAndItsMigration_DecideIdentically() =>
        Prop.ForAll(V1DocumentWithCalls().ToArbitrary(), input =>
        {
            var v1 = PolicyDocument.Parse(input.Document);
            var start = new DateTimeOffset(2026, 1, 1, 0, 0, 30, TimeSpan.Zero);
            var clock1 = new FakeTimeProvider(start);
            var clock2 = new FakeTimeProvider(start);
            var before = new PolicyEvaluator(Policy.Compile(v1), timeProvider: clock1);
            var after = new PolicyEvaluator(Policy.Compile(v1.MigrateToLatest()), timeProvider: clock2);
            var log = new StringBuilder(input.Document).AppendLine();
            foreach (var call in input.Calls)
            {
                clock1.Advance(TimeSpan.FromSeconds(call.AdvanceSeconds));
                clock2.Advance(TimeSpan.FromSeconds(call.AdvanceSeconds));
                using var args = JsonDocument.Parse(call.Args);
                var identity = PolicyIdentity.WithRoles(call.Identity, "admin");
                var a = before.Evaluate(identity, call.Tool, args.RootElement);
                var b = after.Evaluate(identity, call.Tool, args.RootElement);
                log.Append(call).Append(" -> ").Append(a).Append(" | ").Append(b).AppendLine();
                if (a.Kind != b.Kind || a.Reason != b.Reason || a.Rule != b.Rule || a.RetryAfter != b.RetryAfter)
                {
                    return false.Label(log.ToString());
                }

                before.Complete(a, call.Succeeded);
                after.Complete(b, call.Succeeded);
            }

            return true.Label(log.ToString());
        });

    // ---------------------------------------------------------------- anything at all

    private static Gen<byte[]> RandomBytes() =>
        Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf();

    [Property(MaxTest = 500)]
    public Property TryParse_RandomBytes_ReturnsFalseWithErrorsAndNeverThrows() =>
        Prop.ForAll(RandomBytes().ToArbitrary(), bytes =>
        {
            var ok = PolicyDocument.TryParse(bytes, out var document, out var errors);
            return (!ok && document is null && errors.Count >= 1).Label(Convert.ToHexString(bytes));
        });

    private static Gen<byte[]> MutatedDocumentBytes() =>
        from json in PolicyGenerators.Document()
        from n in Gen.Choose(1, 4)
        from edits in (from kind in Gen.Choose(0, 3)
                       from at in Gen.Choose(0, 100_000)
                       from value in Gen.Choose(0, 255)
                       select (kind, at, (byte)value)).ArrayOf(n)
        select ApplyByteEdits(Encoding.UTF8.GetBytes(json), edits);

    private static byte[] ApplyByteEdits(byte[] bytes, (int Kind, int At, byte Value)[] edits)
    {
        var list = bytes.ToList();
        foreach (var (kind, at, value) in edits)
        {
            var i = list.Count == 0 ? 0 : at % list.Count;
            switch (kind)
            {
                case 0 when list.Count > 0:
                    list[i] = value;
                    break;
                case 1:
                    list.Insert(i, value);
                    break;
                case 2 when list.Count > 0:
                    list.RemoveAt(i);
                    break;
                case 3:
                    list.RemoveRange(i, list.Count - i); // truncate
                    break;
            }
        }

        return [.. list];
    }

    [Property(MaxTest = 500)]
    public Property TryParse_MutatedDocumentBytes_NeverThrowsAndErrorsMatchResult() =>
        Prop.ForAll(MutatedDocumentBytes().ToArbitrary(), bytes =>
        {
            var ok = PolicyDocument.TryParse(bytes, out var document, out var errors);
            return (ok ? document is not null && errors.Count == 0 : document is null && errors.Count >= 1)
                .Label(Convert.ToHexString(bytes) + Environment.NewLine + string.Join(Environment.NewLine, errors));
        });

    private static Gen<string> RandomStrings() =>
        Gen.OneOf(
            ArbMap.Default.ArbFor<string>().Generator.Where(s => s is not null),
            Gen.Elements('{', '}', '[', ']', '"', ':', ',', '\\', 'u', 'd', '8', '0', ' ', 'a', '\ud800', '\udc00', '\uFEFF', '\0', 'é')
                .ArrayOf().Select(chars => new string(chars)));

    [Property(MaxTest = 500)]
    public Property TryParse_RandomString_ReturnsFalseWithErrorsAndNeverThrows() =>
        Prop.ForAll(RandomStrings().ToArbitrary(), text =>
        {
            var ok = PolicyDocument.TryParse(text, out var document, out var errors);
            return (!ok && document is null && errors.Count >= 1).Label(JsonSerializer.Serialize(text));
        });

    private static Gen<string> MutatedDocumentText() =>
        from json in PolicyGenerators.Document()
        from at in Gen.Choose(0, 100_000)
        from insert in Gen.Elements("\ud800", "\udc00", "\0", ",", "}", "\"", "\\", "//", "\uFEFF", "NaN", "😀")
        select json.Insert(at % (json.Length + 1), insert);

    [Property(MaxTest = 300)]
    public Property TryParse_MutatedDocumentText_NeverThrowsAndErrorsMatchResult() =>
        Prop.ForAll(MutatedDocumentText().ToArbitrary(), text =>
        {
            var ok = PolicyDocument.TryParse(text, out var document, out var errors);
            return (ok ? document is not null && errors.Count == 0 : document is null && errors.Count >= 1)
                .Label(JsonSerializer.Serialize(text) + Environment.NewLine + string.Join(Environment.NewLine, errors));
        });

    private static Gen<string> MutatedDocument() =>
        from json in PolicyGenerators.Document()
        from mutations in PolicyGenerators.Mutations()
        select PolicyGenerators.Mutate(json, mutations);

    [Property(MaxTest = 500)]
    public Property TryParse_MutatedDocument_NeverThrowsAndEveryPointerResolves() =>
        Prop.ForAll(MutatedDocument().ToArbitrary(), CheckPointersResolve);

    [Property(MaxTest = 500)]
    public Property TryParse_PolicyShapedJson_NeverThrowsAndEveryPointerResolves() =>
        Prop.ForAll(PolicyGenerators.PolicyShapedJson().ToArbitrary(), CheckPointersResolve);

    private static Property CheckPointersResolve(string json)
    {
        var ok = PolicyDocument.TryParse(json, out var document, out var errors);
        using var parsed = JsonDocument.Parse(json, Deep);
        var unresolved = errors.Where(e => !JsonPointerResolver.TryResolve(parsed.RootElement, e.Pointer, out _)).ToList();
        return (unresolved.Count == 0 && (ok ? document is not null && errors.Count == 0 : errors.Count >= 1))
            .Label(json + Environment.NewLine + "unresolved:" + Environment.NewLine + string.Join(Environment.NewLine, unresolved)
                   + Environment.NewLine + "all:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("/tools", true)]
    [InlineData("/tools/a~1b", true)]
    [InlineData("/tools/c~0d", true)]
    [InlineData("/tools/a~1b/require/0/op", true)]
    [InlineData("/tools/a~1b/require/1", false)]
    [InlineData("/tools/a~1b/require/00", false)]
    [InlineData("/tools/a~1b/require/-", false)]
    [InlineData("/tools/a/b", false)]
    [InlineData("/tools/c~d", false)]
    [InlineData("/tools/c~2d", false)]
    [InlineData("/tools/", true)]
    [InlineData("/tools//x", true)]
    [InlineData("tools", false)]
    [InlineData("/version/0", false)]
    public void JsonPointerResolver_Resolves_PerRfc6901(string pointer, bool resolves)
    {
        using var json = JsonDocument.Parse("{\"version\":\"2\",\"tools\":{\"a/b\":{\"require\":[{\"op\":\"eq\"}]},\"c~d\":{},\"\":{\"x\":1}}}");

        Assert.Equal(resolves, JsonPointerResolver.TryResolve(json.RootElement, pointer, out _));
    }
}

/// <summary>A small RFC 6901 JSON Pointer resolver for checking the pointers the parser reports.</summary>
internal static class JsonPointerResolver
{
    public static bool TryResolve(JsonElement root, string pointer, out JsonElement target)
    {
        target = root;
        if (pointer.Length == 0)
        {
            return true;
        }

        if (pointer[0] != '/')
        {
            return false;
        }

        foreach (var raw in pointer[1..].Split('/'))
        {
            if (!TryUnescape(raw, out var token))
            {
                return false;
            }

            switch (target.ValueKind)
            {
                case JsonValueKind.Object:
                    var found = false;
                    foreach (var property in target.EnumerateObject())
                    {
                        if (property.NameEquals(token))
                        {
                            target = property.Value;
                            found = true;
                            break;
                        }
                    }

                    if (!found)
                    {
                        return false;
                    }

                    break;
                case JsonValueKind.Array:
                    // An index is "0" or digits without a leading zero; "-" (past the end) names nothing that exists.
                    if (token.Length == 0 || (token.Length > 1 && token[0] == '0') || !token.All(char.IsAsciiDigit)
                        || !int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                        || index >= target.GetArrayLength())
                    {
                        return false;
                    }

                    target = target[index];
                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    private static bool TryUnescape(string raw, out string token)
    {
        var text = new StringBuilder(raw.Length);
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != '~')
            {
                text.Append(raw[i]);
                continue;
            }

            if (i + 1 >= raw.Length || raw[i + 1] is not ('0' or '1'))
            {
                token = string.Empty;
                return false;
            }

            text.Append(raw[++i] == '0' ? '~' : '/');
        }

        token = text.ToString();
        return true;
    }
}
