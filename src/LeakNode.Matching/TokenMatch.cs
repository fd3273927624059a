using LeakNode.Matching.Rules;

namespace LeakNode.Matching;

/// <summary>
/// One occurrence of a leaked token in the inspected bytes. Carries indices, not strings, so that reporting a
/// match allocates nothing; <see cref="TokenMatcher.GetTokenId"/> and <see cref="TokenMatcher.GetLeakId"/> name them.
/// </summary>
/// <param name="Token">The token's index in the matcher that found it.</param>
/// <param name="Leak">The leak's index in the matcher that found it.</param>
/// <param name="Offset">Offset of the token's first byte from the start of the stream.</param>
/// <param name="Length">The token's length in bytes.</param>
/// <param name="Action">The leak's action at the matcher's version.</param>
public readonly record struct TokenMatch(int Token, int Leak, long Offset, int Length, RuleAction Action);

/// <summary>Receives matches as a scanner finds them. Implement it on a struct to keep the call direct.</summary>
public interface IMatchSink
{
    void OnMatch(in TokenMatch match);
}
