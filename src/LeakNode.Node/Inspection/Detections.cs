using LeakNode.Matching;
using LeakNode.Matching.Rules;

namespace LeakNode.Node.Inspection;

/// <summary>One leaked token found in a request, and where.</summary>
internal readonly record struct Detection(int Token, int Leak, RuleAction Action, string Location);

/// <summary>
/// The detections of one request: one a token (and leak), since an attempt is one attempt wherever the token sits.
/// A token found by a generic scan (the raw target, the raw Cookie line, a raw body) takes the location of a
/// specific one (a query parameter, a cookie, a JSON body) when one finds it too; among specific ones the first
/// found stays.
/// </summary>
internal sealed class Detections
{
    private readonly List<(Detection Detection, bool Generic)> _items = [];

    public int Count => _items.Count;

    public Detection this[int index] => _items[index].Detection;

    public void Clear() => _items.Clear();

    /// <summary>Adds a detection. A generic one (the raw scan of a whole part) gives way to a specific one for the same token.</summary>
    public void Add(in TokenMatch match, string location, bool generic)
    {
        for (var i = 0; i < _items.Count; i++)
        {
            var (existing, existingGeneric) = _items[i];
            if (existing.Token != match.Token || existing.Leak != match.Leak)
            {
                continue;
            }
            if (existingGeneric && !generic)
            {
                _items[i] = (existing with { Location = location }, false);
            }
            return;
        }
        _items.Add((new Detection(match.Token, match.Leak, match.Action, location), generic));
    }

    /// <summary>True when a detection's leak says block (the node's mode decides whether it does).</summary>
    public bool AnyBlock()
    {
        foreach (var (detection, _) in _items)
        {
            if (detection.Action == RuleAction.Block)
            {
                return true;
            }
        }
        return false;
    }
}
