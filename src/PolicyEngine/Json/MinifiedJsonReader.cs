namespace PolicyEngine.Json;

/// <summary>
/// Yields the bytes of raw JSON text minus the insignificant whitespace between tokens.
/// </summary>
/// <remarks>
/// Only used for values nested deeper than <see cref="JsonValueComparer.MaxDepth"/>, where walking the tree
/// recursively could exhaust the stack: such subtrees are compared and written as their minified text, which keeps
/// equality and canonical output consistent (and injective) without recursion.
/// </remarks>
internal ref struct MinifiedJsonReader
{
    private readonly ReadOnlySpan<byte> _text;
    private int _position;
    private bool _inString;
    private bool _escaped;

    /// <summary>Reads <paramref name="text"/>.</summary>
    public MinifiedJsonReader(ReadOnlySpan<byte> text)
    {
        _text = text;
        _position = 0;
        _inString = false;
        _escaped = false;
    }

    /// <summary>The next significant byte; false at the end.</summary>
    public bool TryNext(out byte value)
    {
        while (_position < _text.Length)
        {
            byte b = _text[_position++];
            if (_inString)
            {
                if (_escaped)
                {
                    _escaped = false;
                }
                else if (b == (byte)'\\')
                {
                    _escaped = true;
                }
                else if (b == (byte)'"')
                {
                    _inString = false;
                }

                value = b;
                return true;
            }

            if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
            {
                continue;
            }

            if (b == (byte)'"')
            {
                _inString = true;
            }

            value = b;
            return true;
        }

        value = 0;
        return false;
    }
}
