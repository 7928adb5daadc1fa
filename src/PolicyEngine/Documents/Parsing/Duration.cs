namespace PolicyEngine.Documents.Parsing;

/// <summary>
/// Durations as written in policies (<c>30s</c>, <c>5m</c>, <c>2h</c>, <c>1d</c>) and limit windows.
/// </summary>
/// <remarks>
/// The grammar is deliberately tiny, <c>^[1-9][0-9]*(s|m|h|d)$</c>: no zero, no sign, no spaces, no uppercase, no
/// <c>ms</c>, no compound forms, so a typo is a validation error rather than a surprising window. Anything longer than
/// <see cref="MaxDays"/> days is rejected, which also rules out arithmetic overflow.
/// </remarks>
internal static class Duration
{
    /// <summary>The longest accepted duration, in days (about ten years).</summary>
    internal const int MaxDays = 3650;

    private const long MaxSeconds = MaxDays * 86_400L;

    /// <summary>Parses <c>^[1-9][0-9]*(s|m|h|d)$</c> up to <see cref="MaxDays"/> days. Never throws.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (text is null || text.Length < 2)
        {
            return false;
        }

        long unitSeconds = text[^1] switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => 0,
        };
        if (unitSeconds == 0 || text[0] is < '1' or > '9')
        {
            return false;
        }

        long count = 0;
        for (int i = 0; i < text.Length - 1; i++)
        {
            char c = text[i];
            if (c is < '0' or > '9')
            {
                return false;
            }

            // count stays at most MaxSeconds before the next multiplication, so this never overflows.
            count = (count * 10) + (c - '0');
            if (count * unitSeconds > MaxSeconds)
            {
                return false;
            }
        }

        value = TimeSpan.FromTicks(count * unitSeconds * TimeSpan.TicksPerSecond);
        return true;
    }

    /// <summary>
    /// Parses a limit window: <c>minute</c>, <c>hour</c> or <c>day</c> (aligned to the UTC calendar,
    /// <paramref name="calendar"/> = true), or a duration (aligned to the Unix epoch, <paramref name="calendar"/> = false).
    /// </summary>
    public static bool TryParseWindow(string? text, out TimeSpan length, out bool calendar)
    {
        calendar = true;
        switch (text)
        {
            case "minute":
                length = TimeSpan.FromMinutes(1);
                return true;
            case "hour":
                length = TimeSpan.FromHours(1);
                return true;
            case "day":
                length = TimeSpan.FromDays(1);
                return true;
            default:
                calendar = false;
                return TryParse(text, out length);
        }
    }
}
