using System.Text;

namespace Lstm.Fuzz;

/// <summary>
/// Seeded mutations that hit what file readers get wrong: flipped bits, truncations, length and offset fields set to
/// extremes, numbers in text headers made huge or negative, and pieces of two files spliced together.
/// </summary>
public sealed class Mutator(int seed)
{
    private static readonly long[] Interesting = [0, 1, -1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, int.MaxValue, int.MinValue, uint.MaxValue, long.MaxValue, 1L << 40];
    private static readonly string[] Numbers = ["0", "-1", "4294967296", "99999999999999999999", "2147483647", "1e308", "", "(", "[", "1,1,1,1,1,1,1,1"];
    private readonly Random rng = new(seed);

    public byte[] Mutate(IReadOnlyList<byte[]> seeds)
    {
        byte[] data = (byte[])seeds[rng.Next(seeds.Count)].Clone();
        int rounds = 1 + rng.Next(3);
        for (int i = 0; i < rounds; i++)
        {
            data = MutateOnce(data, seeds);
        }
        return data;
    }

    private byte[] MutateOnce(byte[] d, IReadOnlyList<byte[]> seeds)
    {
        if (d.Length == 0)
        {
            return [(byte)rng.Next(256)];
        }
        switch (rng.Next(7))
        {
            case 0: // flip bits
                for (int n = 1 + rng.Next(8); n > 0; n--) d[rng.Next(d.Length)] ^= (byte)(1 << rng.Next(8));
                return d;
            case 1: // truncate
                return d[..rng.Next(d.Length)];
            case 2: // an interesting little-endian integer of 1, 2, 4 or 8 bytes
            {
                int width = 1 << rng.Next(4);
                int at = rng.Next(Math.Max(1, d.Length - width + 1));
                long v = Interesting[rng.Next(Interesting.Length)];
                for (int b = 0; b < width && at + b < d.Length; b++) d[at + b] = (byte)(v >> (8 * b));
                return d;
            }
            case 3: // a number in a text header replaced
                return ReplaceNumber(d);
            case 4: // insert random bytes
            {
                int at = rng.Next(d.Length + 1);
                byte[] ins = new byte[1 + rng.Next(16)];
                rng.NextBytes(ins);
                return [.. d[..at], .. ins, .. d[at..]];
            }
            case 5: // splice with another seed
            {
                byte[] other = seeds[rng.Next(seeds.Count)];
                int cut = rng.Next(d.Length), from = rng.Next(other.Length + 1);
                return [.. d[..cut], .. other[from..]];
            }
            default: // duplicate a chunk
            {
                int at = rng.Next(d.Length), len = 1 + rng.Next(Math.Min(64, d.Length - at));
                return [.. d[..(at + len)], .. d[at..]];
            }
        }
    }

    private byte[] ReplaceNumber(byte[] d)
    {
        int start = rng.Next(d.Length);
        while (start < d.Length && !char.IsAsciiDigit((char)d[start])) start++;
        if (start == d.Length)
        {
            return d;
        }
        int end = start;
        while (end < d.Length && char.IsAsciiDigit((char)d[end])) end++;
        byte[] number = Encoding.ASCII.GetBytes(Numbers[rng.Next(Numbers.Length)]);
        return [.. d[..start], .. number, .. d[end..]];
    }
}
