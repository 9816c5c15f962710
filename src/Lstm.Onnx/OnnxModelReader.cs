using Google.Protobuf;
using Lstm.Core.IO;
using Lstm.Onnx.Proto;

namespace Lstm.Onnx;

/// <summary>
/// Reads an .onnx file into the protobuf messages of <c>Protos/onnx.proto</c> with the guarantees of the other readers:
/// anything malformed is an <see cref="InvalidDataException"/> naming the file, and nothing is allocated beyond what
/// the bytes actually present justify (the file is read whole first, a stream without a length only as bytes arrive).
/// </summary>
internal static class OnnxModelReader
{
    // Protobuf's own limit for one message is 2 GiB; a model larger than one array cannot be read in one piece anyway.
    private static readonly MessageParser<ModelProto> Parser = ModelProto.Parser.WithDiscardUnknownFields(true);

    public static ModelProto Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Read(stream, path);
    }

    public static ModelProto Read(Stream stream, string what)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] bytes = stream.CanSeek
            ? FileLimits.ReadExactly(stream, stream.Length - stream.Position, what)
            : ReadToEnd(stream, what);
        return Parse(bytes, what);
    }

    public static ModelProto Parse(byte[] bytes, string what)
    {
        ModelProto model;
        try
        {
            // Unknown fields (everything onnx.proto has that the subset leaves out) are skipped, not kept; nesting is
            // bounded by the parser's recursion limit (100), so a deep chain of messages cannot exhaust the stack.
            model = Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{what}: not an ONNX model: {e.Message}", e);
        }
        if (model.Graph is null)
        {
            throw new InvalidDataException($"{what}: the ONNX model has no graph.");
        }
        return model;
    }

    // A pipe: read in chunks, growing only as bytes arrive, up to the largest array.
    private static byte[] ReadToEnd(Stream stream, string what)
    {
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[FileLimits.Chunk];
        int n;
        while ((n = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + n > Array.MaxLength)
            {
                throw new InvalidDataException($"{what} is longer than the largest .NET array.");
            }
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }
}
