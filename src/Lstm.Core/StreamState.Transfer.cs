using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Lstm.Core;

/// <summary>
/// A stream's state (or one row's) as bytes, so a session can move to another process or machine and go on with the
/// same bits. Layout, little-endian: "LSTMSTAT", version (u16) and 0 (u16); cell kind, forget gate, peepholes, option
/// flags (one byte each; the flags are 0 for the options every older state had: see <see cref="OptionFlags"/>); I, H, L, rows (i32 each); steps (i64); then per row and layer h [H] and, for an LSTM, c [H] as float32;
/// last the CRC-32 of everything before it. Import checks all of it: a corrupt or foreign state is an
/// <see cref="InvalidDataException"/>, never a silently different stream.
/// </summary>
public sealed partial class StreamState
{
    private const int HeaderBytes = 40, Version = 1;
    private static ReadOnlySpan<byte> Magic => "LSTMSTAT"u8;

    /// <summary>The length of an export of <paramref name="rows"/> rows (<see cref="Batch"/> for the whole state, 1 for one row).</summary>
    public int ExportLength(int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        long perRow = (long)Options.Layers * (Options.HiddenStateSize + (Options.Cell == CellKind.Lstm ? Options.HiddenSize : 0)) * sizeof(float);
        long total = HeaderBytes + (rows * perRow) + sizeof(uint);
        return total <= Array.MaxLength ? (int)total
            : throw new ArgumentOutOfRangeException(nameof(rows), rows, $"An export of {rows} rows would take {total} bytes, more than one array holds.");
    }

    /// <summary>The whole state (every row, every layer, and the step count) as bytes.</summary>
    public byte[] Export()
    {
        byte[] data = new byte[ExportLength(Batch)];
        Write(data, 0, Batch);
        return data;
    }

    /// <summary>Writes the whole state into <paramref name="destination"/> (no allocation); returns the bytes written.</summary>
    public int Export(Span<byte> destination) => Write(destination, 0, Batch);

    /// <summary>One row's state (one session) as bytes, for <see cref="ImportRow"/> into any row of a stream of the same network shape.</summary>
    public byte[] ExportRow(int row)
    {
        CheckRow(row);
        byte[] data = new byte[ExportLength(1)];
        Write(data, row, 1);
        return data;
    }

    /// <summary>Writes one row's state into <paramref name="destination"/> (no allocation); returns the bytes written.</summary>
    public int ExportRow(int row, Span<byte> destination)
    {
        CheckRow(row);
        return Write(destination, row, 1);
    }

    /// <summary>Replaces the whole state (every row, and the step count) with an <see cref="Export()"/> of a stream with as many rows.</summary>
    public void Import(ReadOnlySpan<byte> data)
    {
        long steps = Validate(data, Batch, nameof(data));
        if (Split is { } split)
        {
            split.Steps = steps;   // first: a split stream keeps h and c in the half its step parity names
        }
        else
        {
            this.steps = steps;
        }
        Read(data, 0, Batch);
    }

    /// <summary>Replaces row <paramref name="row"/>'s state with an <see cref="ExportRow(int)"/>; the other rows and the step count stay.</summary>
    public void ImportRow(int row, ReadOnlySpan<byte> data)
    {
        CheckRow(row);
        Validate(data, 1, nameof(data));
        Read(data, row, 1);
    }

    private int Write(Span<byte> destination, int firstRow, int rows)
    {
        int length = ExportLength(rows);
        if (destination.Length < length)
        {
            throw new ArgumentException($"destination has {destination.Length} bytes; the export needs {length}.", nameof(destination));
        }
        Span<byte> d = destination[..length];
        Magic.CopyTo(d);
        BinaryPrimitives.WriteUInt16LittleEndian(d[8..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(d[10..], 0);
        d[12] = (byte)Options.Cell;
        d[13] = Options.ForgetGate ? (byte)1 : (byte)0;
        d[14] = Options.Peepholes ? (byte)1 : (byte)0;
        d[15] = OptionFlags(Options);
        BinaryPrimitives.WriteInt32LittleEndian(d[16..], Options.InputSize);
        BinaryPrimitives.WriteInt32LittleEndian(d[20..], Options.HiddenSize);
        BinaryPrimitives.WriteInt32LittleEndian(d[24..], Options.Layers);
        BinaryPrimitives.WriteInt32LittleEndian(d[28..], rows);
        BinaryPrimitives.WriteInt64LittleEndian(d[32..], Steps);
        int at = HeaderBytes, hs = Options.HiddenStateSize, hc = Options.HiddenSize; // h is P wide with projections
        for (int row = firstRow; row < firstRow + rows; row++)
        {
            for (int layer = 0; layer < Options.Layers; layer++)
            {
                at = WriteFloats(d, at, Hidden(layer).Slice(row * hs, hs));
                if (Options.Cell == CellKind.Lstm)
                {
                    at = WriteFloats(d, at, Cell(layer).Slice(row * hc, hc));
                }
            }
        }
        BinaryPrimitives.WriteUInt32LittleEndian(d[at..], Crc32.HashToUInt32(d[..at]));
        return length;
    }

    private static int WriteFloats(Span<byte> d, int at, ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(d[at..], v);
            at += sizeof(float);
        }
        return at;
    }

    // Checks everything the bytes say against this state before any of it is used; returns the step count.
    private long Validate(ReadOnlySpan<byte> data, int rows, string name)
    {
        int expected = ExportLength(rows);
        if (data.Length < HeaderBytes + sizeof(uint) || !data[..8].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{name}: not an exported stream state (it has {data.Length} bytes and no \"LSTMSTAT\" header).");
        }
        int version = BinaryPrimitives.ReadUInt16LittleEndian(data[8..]);
        if (version != Version)
        {
            throw new InvalidDataException($"{name}: stream state version {version}; this library reads version {Version}.");
        }
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]);
        if (Crc32.HashToUInt32(data[..^4]) != stored)
        {
            throw new InvalidDataException($"{name}: the stream state's CRC-32 does not match its contents: it is corrupt or truncated.");
        }
        var got = (Cell: (CellKind)data[12], Forget: data[13] == 1, Peep: data[14] == 1,
            I: BinaryPrimitives.ReadInt32LittleEndian(data[16..]), H: BinaryPrimitives.ReadInt32LittleEndian(data[20..]),
            L: BinaryPrimitives.ReadInt32LittleEndian(data[24..]), Flags: data[15]);
        var want = (Options.Cell, Options.ForgetGate, Options.Peepholes, Options.InputSize, Options.HiddenSize, Options.Layers, OptionFlags(Options));
        if (got != want)
        {
            throw new InvalidDataException($"{name}: the state was exported from another network shape: {Describe(got)}; this stream's network is {Describe(want)}.");
        }
        int gotRows = BinaryPrimitives.ReadInt32LittleEndian(data[28..]);
        if (gotRows != rows)
        {
            throw new ArgumentException($"{name} holds {gotRows} rows; expected {rows}{(rows == 1 ? " (an ExportRow)" : " (this stream's batch)")}.", name);
        }
        if (data.Length != expected)
        {
            throw new InvalidDataException($"{name} has {data.Length} bytes; a state of {rows} rows of this network has {expected}.");
        }
        long steps = BinaryPrimitives.ReadInt64LittleEndian(data[32..]);
        return steps >= 0 ? steps : throw new InvalidDataException($"{name}: negative step count {steps}.");
    }

    private void Read(ReadOnlySpan<byte> data, int firstRow, int rows)
    {
        int hs = Options.HiddenStateSize, hc = Options.HiddenSize, at = HeaderBytes;
        bool lstm = Options.Cell == CellKind.Lstm;
        Span<float> h = hs <= 1024 ? stackalloc float[hs] : new float[hs];
        Span<float> c = !lstm ? default : hc <= 1024 ? stackalloc float[hc] : new float[hc];
        for (int row = firstRow; row < firstRow + rows; row++)
        {
            for (int layer = 0; layer < Options.Layers; layer++)
            {
                at = ReadFloats(data, at, h);
                if (lstm)
                {
                    at = ReadFloats(data, at, c);
                }
                WriteRow(layer, row, h, c);
            }
        }
    }

    private static int ReadFloats(ReadOnlySpan<byte> data, int at, Span<float> values)
    {
        for (int i = 0; i < values.Length; i++, at += sizeof(float))
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(data[at..]);
        }
        return at;
    }

    private static string Describe((CellKind Cell, bool Forget, bool Peep, int I, int H, int L, byte Flags) s) =>
        new StringBuilder().Append(s.Cell).Append(" I = ").Append(s.I).Append(", H = ").Append(s.H).Append(", L = ").Append(s.L)
            .Append(s.Cell == CellKind.Lstm ? $", forget gate {(s.Forget ? "on" : "off")}, peepholes {(s.Peep ? "on" : "off")}" : "")
            .Append((s.Flags & ReluFlag) != 0 ? ", ReLU" : "").Append((s.Flags & NoBiasFlag) != 0 ? ", no bias" : "")
            .Append((s.Flags & ResetBeforeLinearFlag) != 0 ? ", linear_before_reset = 0" : "").ToString();

    private const byte ReluFlag = 1, NoBiasFlag = 2, ResetBeforeLinearFlag = 4;

    /// <summary>
    /// The options issue 14 added, one bit each, so that a state moves only to a network that computes the same way:
    /// ReLU (1), no bias (2), GRU with linear_before_reset = 0 (4). 0 is every state written before them (tanh, bias,
    /// PyTorch's GRU), so older exports still import.
    /// </summary>
    private static byte OptionFlags(RecurrentOptions o) => (byte)((o.Nonlinearity == RnnNonlinearity.Relu ? ReluFlag : 0)
        | (o.Bias ? 0 : NoBiasFlag) | (o.Cell == CellKind.Gru && !o.LinearBeforeReset ? ResetBeforeLinearFlag : 0));
}
