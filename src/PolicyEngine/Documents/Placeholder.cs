namespace PolicyEngine.Documents;

/// <summary>Temporary.</summary>
public static class Placeholder { }
