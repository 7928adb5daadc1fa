namespace PolicyEngine.Matching;

/// <summary>
/// A directory for the <c>path_under</c> operator, normalised once when the policy is compiled: an optional drive
/// letter (as written, case-sensitive) and the path's segments after resolving <c>.</c>, <c>..</c> and repeated
/// separators. Create it with <see cref="PathUnder.TryNormalizeRoot"/>.
/// </summary>
internal readonly struct NormalizedPath
{
    /// <summary>Creates a normalised path; <paramref name="drive"/> is <c>'\0'</c> when there is none.</summary>
    public NormalizedPath(char drive, string[] segments, bool windowsStyle = false)
    {
        Drive = drive;
        Segments = segments;
        WindowsStyle = windowsStyle || drive != '\0';
    }

    /// <summary>The drive letter as written (<c>'C'</c> for <c>C:\</c>), or <c>'\0'</c> for a path starting with a separator.</summary>
    public char Drive { get; }

    /// <summary>
    /// Whether the directory was written the Windows way (a drive letter, or a backslash anywhere): only then may an
    /// argument use <c>\</c> as a separator without being refused as unusual (see <see cref="PathUnder.IsUnusual"/>).
    /// </summary>
    public bool WindowsStyle { get; }

    /// <summary>The segments; empty for a filesystem root. Null only for a default instance, under which nothing lies.</summary>
    public string[]? Segments { get; }

    /// <inheritdoc />
    public override string ToString()
    {
        string body = "/" + string.Join('/', Segments ?? []);
        return Drive == '\0' ? body : Drive + ":" + body;
    }
}
