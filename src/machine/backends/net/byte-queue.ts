// A FIFO of bytes kept as the chunks they were written in (the TCP send buffer).
//
// Appending and dropping from the front never copy, and reading a range at a moving offset is
// amortised constant time, so a multi-megabyte stream costs linear time overall.

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Index of the first live chunk; chunks before it are dropped and compacted away in batches. */
  private head = 0;
  /** Bytes of chunks[head] already dropped. */
  private headOffset = 0;
  private size = 0;
  /** A read cursor: the chunk index and the queue offset where that chunk's live bytes begin. */
  private cursorIndex = 0;
  private cursorStart = 0;

  get length(): number {
    return this.size;
  }

  /** Appends `bytes` (kept, not copied: the caller must not change them afterwards). */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  /** `length` bytes from `offset`: a view when they lie in one chunk, a copy otherwise. */
  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`read ${offset}+${length} outside a queue of ${this.size} bytes`);
    }
    if (length === 0) return new Uint8Array(0);
    if (this.cursorIndex < this.head || offset < this.cursorStart) {
      this.cursorIndex = this.head;
      this.cursorStart = 0;
    }
    // Walk to the chunk holding `offset`.
    while (offset >= this.cursorStart + this.liveLength(this.cursorIndex)) {
      this.cursorStart += this.liveLength(this.cursorIndex);
      this.cursorIndex++;
    }
    const first = this.chunks[this.cursorIndex]!;
    const skip = this.cursorIndex === this.head ? this.headOffset : 0;
    const within = offset - this.cursorStart + skip;
    if (within + length <= first.length) return first.subarray(within, within + length);
    const out = new Uint8Array(length);
    let copied = 0;
    let index = this.cursorIndex;
    let at = within;
    while (copied < length) {
      const chunk = this.chunks[index]!;
      const take = Math.min(chunk.length - at, length - copied);
      out.set(chunk.subarray(at, at + take), copied);
      copied += take;
      index++;
      at = 0;
    }
    return out;
  }

  /** Removes `count` bytes from the front. */
  drop(count: number): void {
    if (count < 0 || count > this.size)
      throw new RangeError(`drop ${count} from a queue of ${this.size} bytes`);
    this.size -= count;
    // The cursor keeps pointing at the same chunk; its start moves with the front.
    let remaining = count;
    while (remaining > 0) {
      const live = this.liveLength(this.head);
      if (remaining < live) {
        this.headOffset += remaining;
        break;
      }
      remaining -= live;
      this.head++;
      this.headOffset = 0;
    }
    if (this.cursorIndex >= this.head) this.cursorStart = Math.max(0, this.cursorStart - count);
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.cursorIndex -= this.head;
      this.head = 0;
    }
    if (this.size === 0) {
      this.chunks = [];
      this.head = 0;
      this.headOffset = 0;
      this.cursorIndex = 0;
      this.cursorStart = 0;
    }
  }

  private liveLength(index: number): number {
    const chunk = this.chunks[index]!;
    return index === this.head ? chunk.length - this.headOffset : chunk.length;
  }
}
