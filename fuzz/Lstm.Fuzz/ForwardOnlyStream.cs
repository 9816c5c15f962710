namespace Lstm.Fuzz;

/// <summary>
/// A stream that can only be read forward, like a pipe or a socket: no length, no seeking, and reads that return
/// fewer bytes than asked (1 to <paramref name="maxRead"/>), so readers that trust a declared size or a full read show it.
/// </summary>
public sealed class ForwardOnlyStream(byte[] data, int maxRead = 4093) : Stream
{
    private int position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException("A forward-only stream has no length.");

    public override long Position
    {
        get => throw new NotSupportedException("A forward-only stream has no position.");
        set => throw new NotSupportedException("A forward-only stream cannot seek.");
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(Math.Min(buffer.Length, maxRead), data.Length - position);
        data.AsSpan(position, n).CopyTo(buffer);
        position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A forward-only stream cannot seek.");

    public override void SetLength(long value) => throw new NotSupportedException("A forward-only stream cannot be written.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("A forward-only stream cannot be written.");
}
