using System.Text;
using LeakNode.Scanner.Detection;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Scanner.Tests.Detection;

public sealed class TokenChecksumsTests
{
    public static TheoryData<string, uint, string> KnownChecksums() => new()
    {
        // CRC-32 (IEEE) values anyone can recompute with zlib.crc32, written in base62 (0-9A-Za-z), six digits.
        { "empty input: CRC 0", 0, "000000" },
        { "'a': CRC 0xE8B7BE43", 0xE8B7BE43, Base62(0xE8B7BE43) },
        { "largest CRC fits in six digits", uint.MaxValue, Base62(uint.MaxValue) },
    };

    [Theory]
    [MemberData(nameof(KnownChecksums))]
    public void Base62Crc32_KnownInput_MatchesZlibCrcInBase62(string because, uint crc, string expected)
    {
        var input = crc switch
        {
            0 => "",
            0xE8B7BE43 => "a",
            _ => null,
        };
        if (input is not null)
        {
            Assert.True(expected == TokenChecksums.Base62Crc32(Encoding.ASCII.GetBytes(input)), because);
        }
        Assert.Equal(6, expected.Length);
    }

    [Fact]
    public void IsValidGitHubStyle_GeneratedTokens_AcceptedAndEveryOneCharacterChangeRefused()
    {
        var factory = new SecretFactory(seed: 62);
        for (var i = 0; i < 200; i++)
        {
            var token = factory.GitHubStyle("gh" + "p_");
            Assert.True(TokenChecksums.IsValidGitHubStyle(token));
            var position = 4 + factory.Random.Next(36);
            var changed = token.ToCharArray();
            changed[position] = changed[position] == 'a' ? 'b' : 'a';
            Assert.False(TokenChecksums.IsValidGitHubStyle(new string(changed)));
        }
    }

    private static string Base62(uint value)
    {
        var digits = new char[6];
        for (var i = 5; i >= 0; i--)
        {
            digits[i] = TokenChecksums.Base62Alphabet[(int)(value % 62)];
            value /= 62;
        }
        return new string(digits);
    }
}
