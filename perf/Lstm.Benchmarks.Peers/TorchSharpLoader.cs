using System.Buffers.Binary;
using System.Text;

namespace Lstm.Benchmarks.Peers;

/// <summary>
/// TorchSharp 0.107's glue library asks for GLIBCXX_3.4.32, which Debian 12's libstdc++ lacks; loading then fails
/// with a misleading "doesn't contain a reference to libtorch-cpu-linux-x64" error. Only the symbol
/// <c>_ZSt21ios_base_library_initv</c> needs that version and nothing calls it, so this marks that one version
/// requirement weak (VER_FLG_WEAK in its Vernaux entry) in the copy under bin/, before TorchSharp loads it.
/// </summary>
internal static class TorchSharpLoader
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    public static string Patch(string version = "GLIBCXX_3.4.32")
    {
        string path = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        if (!File.Exists(path))
        {
            path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        }
        if (!File.Exists(path))
        {
            return "libLibTorchSharp.so not found under bin/";
        }
        byte[] elf = File.ReadAllBytes(path);
        if (elf[0] != 0x7F || elf[1] != 'E' || elf[4] != 2 || elf[5] != 1)
        {
            return "not a little-endian ELF64 file";
        }
        long shoff = BinaryPrimitives.ReadInt64LittleEndian(elf.AsSpan(0x28));
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3A));
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3C));
        Span<byte> Section(int i) => elf.AsSpan((int)(shoff + ((long)i * shentsize)), shentsize);
        for (int i = 0; i < shnum; i++)
        {
            Span<byte> sh = Section(i);
            if (BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]) != ShtGnuVerneed)
            {
                continue;
            }
            long offset = BinaryPrimitives.ReadInt64LittleEndian(sh[24..]);
            int link = (int)BinaryPrimitives.ReadUInt32LittleEndian(sh[40..]);
            int count = (int)BinaryPrimitives.ReadUInt32LittleEndian(sh[44..]);
            long strtab = BinaryPrimitives.ReadInt64LittleEndian(Section(link)[24..]);
            long need = offset;
            for (int n = 0; n < count; n++)
            {
                int auxCount = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan((int)need + 2));
                long aux = need + BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)need + 8));
                for (int a = 0; a < auxCount; a++)
                {
                    long name = strtab + BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)aux + 8));
                    int end = Array.IndexOf(elf, (byte)0, (int)name);
                    if (Encoding.ASCII.GetString(elf, (int)name, end - (int)name) == version)
                    {
                        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan((int)aux + 4));
                        if ((flags & VerFlgWeak) != 0)
                        {
                            return $"{version} already weak in {path}";
                        }
                        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan((int)aux + 4), (ushort)(flags | VerFlgWeak));
                        string temp = path + ".patching";
                        File.WriteAllBytes(temp, elf);
                        File.Move(temp, path, overwrite: true);
                        return $"marked {version} weak in {path}";
                    }
                    aux += BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)aux + 12));
                }
                need += BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)need + 12));
            }
        }
        return $"{version} not required by {path}: nothing to patch";
    }
}
