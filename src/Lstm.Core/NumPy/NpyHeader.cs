namespace Lstm.Core.NumPy;

/// <summary>
/// The <c>.npy</c> header, parsed as the Python dict literal it is and nothing more: braces, the keys
/// <c>'descr'</c> (a string), <c>'fortran_order'</c> (<c>True</c> or <c>False</c>) and <c>'shape'</c> (a tuple of
/// non-negative decimal integers, a one-element tuple with its comma), each exactly once (NumPy would take the last
/// of a duplicated key; a duplicate here is refused), commas between entries, an optional trailing comma, and
/// whitespace. Strings are plain single- or double-quoted text without escapes. Anything else is an
/// <see cref="InvalidDataException"/>.
/// </summary>
internal ref struct NpyHeader
{
    private readonly ReadOnlySpan<char> text;
    private int pos;

    private NpyHeader(ReadOnlySpan<char> text) => this.text = text;

    public static (string Descr, bool FortranOrder, long[] Shape) Parse(string header)
    {
        var p = new NpyHeader(header);
        string? descr = null;
        bool? fortran = null;
        long[]? shape = null;
        p.Expect('{');
        while (true)
        {
            if (p.TryTake('}'))
            {
                break;
            }
            int keyAt = p.pos;
            string key = p.String();
            p.Expect(':');
            switch (key)
            {
                case "descr" when descr is null:
                    p.SkipSpace();
                    descr = p.Peek() is '\'' or '"' ? p.String() : throw p.Error("'descr' is not a plain string (structured dtypes are not supported)");
                    break;
                case "fortran_order" when fortran is null:
                    fortran = p.Boolean();
                    break;
                case "shape" when shape is null:
                    shape = p.Tuple();
                    break;
                case "descr" or "fortran_order" or "shape":
                    p.pos = keyAt;
                    throw p.Error($"'{key}' appears twice");
                default:
                    p.pos = keyAt;
                    throw p.Error($"unexpected key '{key}'; a .npy header has exactly 'descr', 'fortran_order' and 'shape'");
            }
            if (p.TryTake('}'))
            {
                break;
            }
            p.Expect(',');
        }
        p.SkipSpace();
        if (p.pos != p.text.Length)
        {
            throw p.Error("text after the closing brace");
        }
        if (descr is null || fortran is null || shape is null)
        {
            string missing = string.Join(", ", new[] { descr is null ? "'descr'" : null, fortran is null ? "'fortran_order'" : null, shape is null ? "'shape'" : null }.OfType<string>());
            throw new InvalidDataException($"The .npy header lacks {missing}: {Clip(header)}");
        }
        return (descr, fortran.Value, shape);
    }

    private readonly char Peek() => pos < text.Length ? text[pos] : '\0';

    private void SkipSpace()
    {
        while (pos < text.Length && text[pos] is ' ' or '\t' or '\n' or '\r')
        {
            pos++;
        }
    }

    private bool TryTake(char c)
    {
        SkipSpace();
        if (Peek() != c)
        {
            return false;
        }
        pos++;
        return true;
    }

    private void Expect(char c)
    {
        if (!TryTake(c))
        {
            throw Error($"expected '{c}'");
        }
    }

    private string String()
    {
        SkipSpace();
        char quote = Peek();
        if (quote is not ('\'' or '"'))
        {
            throw Error("expected a quoted string");
        }
        int start = ++pos;
        while (pos < text.Length && text[pos] != quote)
        {
            if (text[pos] is '\\' or '\n' or '\r')
            {
                throw Error("escapes and line breaks in strings are not supported");
            }
            pos++;
        }
        if (pos == text.Length)
        {
            throw Error("an unterminated string");
        }
        return new string(text[start..pos++]);
    }

    private bool Boolean()
    {
        SkipSpace();
        foreach (var (word, value) in new[] { ("True", true), ("False", false) })
        {
            if (text[pos..].StartsWith(word, StringComparison.Ordinal) && !IsNameChar(pos + word.Length))
            {
                pos += word.Length;
                return value;
            }
        }
        throw Error("'fortran_order' must be True or False");
    }

    private readonly bool IsNameChar(int at) => at < text.Length && (char.IsAsciiLetterOrDigit(text[at]) || text[at] == '_');

    private long[] Tuple()
    {
        Expect('(');
        var dims = new List<long>();
        bool comma = false;
        while (true)
        {
            if (TryTake(')'))
            {
                break;
            }
            dims.Add(Integer());
            comma = TryTake(',');
            if (!comma)
            {
                Expect(')');
                break;
            }
        }
        if (dims.Count == 1 && !comma)
        {
            throw Error("'shape' (n) is an integer in Python, not a tuple; a one-element shape is written (n,)");
        }
        return [.. dims];
    }

    private long Integer()
    {
        SkipSpace();
        int start = pos;
        while (pos < text.Length && char.IsAsciiDigit(text[pos]))
        {
            pos++;
        }
        ReadOnlySpan<char> digits = text[start..pos];
        if (digits.IsEmpty || IsNameChar(pos) || (digits.Length > 1 && digits[0] == '0'))
        {
            pos = start;
            throw Error("expected a non-negative decimal integer (no sign, leading zero, suffix or underscore)");
        }
        if (digits.Length > 18)
        {
            pos = start;
            throw Error("a dimension too large");
        }
        return long.Parse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);
    }

    private readonly InvalidDataException Error(string what) =>
        new($"The .npy header is not a valid dict literal ({what}, at character {pos}): {Clip(text.ToString())}");

    private static string Clip(string header)
    {
        string t = header.Trim();
        return t.Length <= 200 ? t : t[..200] + "…";
    }
}
