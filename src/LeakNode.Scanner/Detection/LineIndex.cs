namespace LeakNode.Scanner.Detection;

/// <summary>Maps character offsets of one document to 0-based lines, building the table of line starts on first use.</summary>
internal sealed class LineIndex(string text)
{
    private List<int>? _starts;

    public int LineOf(int offset)
    {
        var starts = Starts;
        var index = starts.BinarySearch(offset);
        return index >= 0 ? index : ~index - 1;
    }

    public int StartOf(int line) => Starts[line];

    /// <summary>The offset just past the line's last character, before its '\r\n' or '\n'.</summary>
    public int EndOf(int line)
    {
        var starts = Starts;
        var end = line + 1 < starts.Count ? starts[line + 1] - 1 : text.Length;
        if (end > starts[line] && end <= text.Length && end - 1 >= 0 && end - 1 < text.Length && text[end - 1] == '\r')
        {
            end--;
        }
        return end;
    }

    private List<int> Starts
    {
        get
        {
            if (_starts is null)
            {
                var starts = new List<int> { 0 };
                var position = 0;
                int found;
                while ((found = text.IndexOf('\n', position)) >= 0)
                {
                    starts.Add(found + 1);
                    position = found + 1;
                }
                _starts = starts;
            }
            return _starts;
        }
    }
}
