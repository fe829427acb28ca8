/** Keeps the last `limit` bytes of a stream: for installer output the end is what explains a failure. */
export class BoundedOutput {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      const excess = this.size - this.limit;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
      this.truncated = true;
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** The last lines of a command's output, for an operator reading why an install failed. */
export function outputTail(stdout: string, stderr: string, lines = 20): string {
  const all = `${stdout}${stdout && stderr ? '\n' : ''}${stderr}`.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}
