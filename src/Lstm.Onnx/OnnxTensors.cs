using System.Buffers.Binary;
using Lstm.Core.IO;
using Lstm.Onnx.Proto;
using DataType = Lstm.Onnx.Proto.TensorProto.Types.DataType;

namespace Lstm.Onnx;

/// <summary>
/// The values of a <see cref="TensorProto"/> (an initializer or a Constant node's value), checked as the other readers
/// check theirs: the shape by <see cref="FileLimits.Elements"/>, the data's length against the shape before anything is
/// allocated for it, and data kept outside the file (ONNX's external data) refused, as this reader opens no other file.
/// </summary>
internal static class OnnxTensors
{
    public static int[] Shape(TensorProto t, string what, out int count)
    {
        if (t.DataLocation == TensorProto.Types.DataLocation.External || t.ExternalData.Count > 0)
        {
            throw new InvalidDataException($"{what} keeps its data in an external file, which this reader does not open; save the model with every tensor inside it (onnx.save_model(model, path, save_as_external_data=False)).");
        }
        if (t.Segment is not null)
        {
            throw new InvalidDataException($"{what} is one segment of a larger tensor; segmented tensors are not supported.");
        }
        long[] dims = [.. t.Dims];
        count = FileLimits.Elements(dims, what);
        int[] shape = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++) shape[i] = (int)dims[i];
        return shape;
    }

    public static string TypeName(int dataType) =>
        Enum.IsDefined(typeof(DataType), dataType) ? ((DataType)dataType).ToString() : $"data type {dataType}";

    /// <summary>float, double, float16 and bfloat16 tensors as float32 (double rounds to nearest).</summary>
    public static float[] Floats(TensorProto t, string what, out int[] shape)
    {
        shape = Shape(t, what, out int n);
        switch ((DataType)t.DataType)
        {
            case DataType.Float:
                if (t.HasRawData)
                {
                    ReadOnlySpan<byte> raw = Raw(t, what, n, 4);
                    float[] f = new float[n];
                    for (int i = 0; i < n; i++) f[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]);
                    return f;
                }
                Count(t.FloatData.Count, n, what, "float_data");
                return [.. t.FloatData];
            case DataType.Double:
                if (t.HasRawData)
                {
                    ReadOnlySpan<byte> raw = Raw(t, what, n, 8);
                    float[] f = new float[n];
                    for (int i = 0; i < n; i++) f[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]);
                    return f;
                }
                Count(t.DoubleData.Count, n, what, "double_data");
                return [.. t.DoubleData.Select(d => (float)d)];
            case DataType.Float16:
            case DataType.Bfloat16:
                bool half = t.DataType == (int)DataType.Float16;
                ushort[] bits = Bits16(t, what, n);
                float[] values = new float[n];
                for (int i = 0; i < n; i++)
                {
                    values[i] = half ? (float)BitConverter.UInt16BitsToHalf(bits[i]) : BitConverter.Int32BitsToSingle(bits[i] << 16);
                }
                return values;
            default:
                throw new InvalidDataException($"{what} is {TypeName(t.DataType)}; expected FLOAT, DOUBLE, FLOAT16 or BFLOAT16.");
        }
    }

    /// <summary>int8, uint8, int32 and int64 tensors as int (an int64 beyond int's range is refused).</summary>
    public static int[] Integers(TensorProto t, string what, out int[] shape)
    {
        shape = Shape(t, what, out int n);
        int size = (DataType)t.DataType switch { DataType.Int8 or DataType.Uint8 => 1, DataType.Int32 => 4, DataType.Int64 => 8, _ => 0 };
        if (size == 0)
        {
            throw new InvalidDataException($"{what} is {TypeName(t.DataType)}; expected INT8, UINT8, INT32 or INT64.");
        }
        // The data's length against the shape before anything is allocated for the shape.
        if (t.HasRawData) Raw(t, what, n, size);
        else Count(size == 8 ? t.Int64Data.Count : t.Int32Data.Count, n, what, size == 8 ? "int64_data" : "int32_data");
        int[] values = new int[n];
        switch ((DataType)t.DataType)
        {
            case DataType.Int8:
            case DataType.Uint8:
                bool signed = t.DataType == (int)DataType.Int8;
                if (t.HasRawData)
                {
                    ReadOnlySpan<byte> raw = Raw(t, what, n, 1);
                    for (int i = 0; i < n; i++) values[i] = signed ? (sbyte)raw[i] : raw[i];
                    return values;
                }
                Count(t.Int32Data.Count, n, what, "int32_data");
                for (int i = 0; i < n; i++) values[i] = signed ? (sbyte)t.Int32Data[i] : (byte)t.Int32Data[i];
                return values;
            case DataType.Int32:
                if (t.HasRawData)
                {
                    ReadOnlySpan<byte> raw = Raw(t, what, n, 4);
                    for (int i = 0; i < n; i++) values[i] = BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]);
                    return values;
                }
                Count(t.Int32Data.Count, n, what, "int32_data");
                t.Int32Data.CopyTo(values, 0);
                return values;
            case DataType.Int64:
                if (t.HasRawData)
                {
                    ReadOnlySpan<byte> raw = Raw(t, what, n, 8);
                    for (int i = 0; i < n; i++) values[i] = Narrow(BinaryPrimitives.ReadInt64LittleEndian(raw[(8 * i)..]), what);
                    return values;
                }
                Count(t.Int64Data.Count, n, what, "int64_data");
                for (int i = 0; i < n; i++) values[i] = Narrow(t.Int64Data[i], what);
                return values;
            default:
                throw new InvalidDataException($"{what} is {TypeName(t.DataType)}; expected INT8, UINT8, INT32 or INT64.");
        }
    }

    private static int Narrow(long v, string what) =>
        v is >= int.MinValue and <= int.MaxValue ? (int)v : throw new InvalidDataException($"{what} holds {v}, beyond a 32-bit integer.");

    private static ushort[] Bits16(TensorProto t, string what, int n)
    {
        if (t.HasRawData)
        {
            ReadOnlySpan<byte> raw = Raw(t, what, n, 2);
            ushort[] fromRaw = new ushort[n];
            for (int i = 0; i < n; i++) fromRaw[i] = BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]);
            return fromRaw;
        }
        // ONNX keeps 16-bit floats one per int32 in int32_data, as their bit patterns.
        Count(t.Int32Data.Count, n, what, "int32_data");
        ushort[] bits = new ushort[n];
        for (int i = 0; i < n; i++) bits[i] = (ushort)t.Int32Data[i];
        return bits;
    }

    private static ReadOnlySpan<byte> Raw(TensorProto t, string what, int n, int size)
    {
        ReadOnlySpan<byte> raw = t.RawData.Span;
        if (raw.Length != (long)n * size)
        {
            throw new InvalidDataException($"{what}: raw_data holds {raw.Length:N0} bytes; its shape {FileLimits.Text([.. t.Dims])} of {TypeName(t.DataType)} needs {(long)n * size:N0}.");
        }
        return raw;
    }

    private static void Count(int have, int n, string what, string field)
    {
        if (have != n)
        {
            throw new InvalidDataException($"{what}: {field} holds {have:N0} values; its shape needs {n:N0}.");
        }
    }
}
