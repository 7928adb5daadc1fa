namespace PolicyEngine;

/// <summary>
/// One problem found in a policy document: where it is (an RFC 6901 JSON Pointer into the document)
/// and what is wrong with it.
/// </summary>
/// <param name="Pointer">
/// The JSON Pointer of the offending value. An unknown key's pointer names that key (<c>/tools/x/opp</c>);
/// a missing key's pointer names the object that lacks it (the message names the key); <c>""</c> is the whole document.
/// </param>
/// <param name="Message">What is wrong and, where possible, how to fix it.</param>
public sealed record PolicyError(string Pointer, string Message)
{
    /// <summary>Formats the problem as <c>pointer: message</c>.</summary>
    /// <returns>The pointer (or <c>(root)</c>) followed by the message.</returns>
    public override string ToString() => $"{(Pointer.Length == 0 ? "(root)" : Pointer)}: {Message}";
}
