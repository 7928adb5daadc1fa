using System.Collections.Concurrent;

namespace PolicyEngine.Samples.GuardedServer;

/// <summary>Notes kept in memory for the life of the server.</summary>
public sealed class NoteStore
{
    private readonly ConcurrentDictionary<string, string> _notes = new(StringComparer.Ordinal);

    public string List() => _notes.IsEmpty ? "(no notes)" : string.Join("\n", _notes.Keys.Order(StringComparer.Ordinal));

    public void Save(string name, string text) => _notes[name] = text;

    public bool Delete(string name) => _notes.TryRemove(name, out _);

    public void Clear() => _notes.Clear();
}
