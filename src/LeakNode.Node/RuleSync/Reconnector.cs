using LeakNode.Node.Configuration;

namespace LeakNode.Node.RuleSync;

/// <summary>
/// Which cloud URL to try next and how long to wait first. After a failure the next replica is tried at once;
/// once every replica has failed in a row, the wait is drawn at random between zero and a ceiling that doubles
/// with each round, up to <see cref="CloudOptions.ReconnectMaxDelay"/> ("full jitter"): a thousand nodes that lost
/// the cloud together come back spread over the whole interval rather than in waves.
/// </summary>
/// <remarks>Each stream has its own; not thread-safe.</remarks>
internal sealed class Reconnector
{
    private readonly IReadOnlyList<string> _endpoints;
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;
    private readonly Random _random;
    private int _index;
    private int _failuresInRound;
    private int _rounds;

    public Reconnector(IReadOnlyList<string> endpoints, TimeSpan initial, TimeSpan max, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(endpoints.Count);
        _endpoints = endpoints;
        _initial = initial;
        _max = max;
        _random = random ?? Random.Shared;
    }

    /// <summary>The URL to use now.</summary>
    public string Endpoint => _endpoints[_index];

    /// <summary>True after a failure until the next success: the next attempt is a reconnect.</summary>
    public bool Failing => _failuresInRound > 0 || _rounds > 0;

    /// <summary>A stream was established: the next failure starts from the first short wait again.</summary>
    public void Succeeded()
    {
        _failuresInRound = 0;
        _rounds = 0;
    }

    /// <summary>The attempt on <see cref="Endpoint"/> failed: moves to the next URL and returns how long to wait before trying it.</summary>
    /// <param name="refused">The cloud refused the node token: it will go on refusing until an operator acts, so wait the longest.</param>
    public TimeSpan Failed(bool refused)
    {
        _index = (_index + 1) % _endpoints.Count;
        if (refused)
        {
            // Half to all of the ceiling: slow, and still spread out.
            return _max / 2 + (_max / 2 * _random.NextDouble());
        }
        if (++_failuresInRound < _endpoints.Count)
        {
            return TimeSpan.Zero;
        }
        _failuresInRound = 0;
        var ceiling = Ceiling(_rounds++);
        return ceiling * _random.NextDouble();
    }

    /// <summary>The largest wait after <paramref name="round"/> rounds of failures (0: the first).</summary>
    public TimeSpan Ceiling(int round)
    {
        // Past 2^30 the ceiling has long reached any sane maximum; the cap keeps the shift from overflowing.
        var factor = Math.Pow(2, Math.Min(round, 30));
        var ticks = Math.Min(_max.Ticks, _initial.Ticks * factor);
        return TimeSpan.FromTicks((long)ticks);
    }
}
