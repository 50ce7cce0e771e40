/**
 * Server-sent events over a byte stream. Lines are split on CRLF, LF or CR, decoded as UTF-8
 * across chunk boundaries.
 * - `LineSplitter`: the lines of each chunk as it comes, with no promise per line (a chat stream
 *   reads thousands of lines a second: readChatStream drives it from its own loop).
 * - `readSseData`: the WHATWG "event stream" format: each event's data (lines joined, dispatched
 *   on a blank line); comments and other fields are ignored.
 * - `readDataLines`: each `data:` line on its own, as the Python SDK reads a chat stream
 *   (`iter_lines`): it needs no blank line between chunks, and one chunk is one line.
 */

const LF = 10;
const SPACE = 32;
/** A cached position not looked for yet. */
const UNKNOWN = -2;

/**
 * The complete lines of a byte stream, chunk by chunk: `push` each chunk (`end` after the last),
 * then take lines (`nextLine` or `nextData`) until they answer undefined, before the next push.
 * A last line without its ending is not complete, and is never answered.
 *
 * Each line is found with `indexOf` from an offset into the decoded text, never by slicing or
 * matching the whole rest: the next LF and the next CR are remembered, so that a stream with no
 * CR at all does not look for one past every line.
 */
export class LineSplitter {
  readonly #decoder = new TextDecoder();
  /** Decoded text; what lies before `#at` is taken. */
  #text = '';
  #at = 0;
  /** No line ends between `#at` and `#from` (a line waiting for more is not searched again). */
  #from = 0;
  /** The first LF and CR at or after `#from`: -1 when the text holds none, or UNKNOWN. */
  #lf = -1;
  #cr = -1;
  /** Where the line found by `#lineEnd` is followed: past its CR, LF or CRLF. */
  #next = 0;
  #ended = false;

  push(chunk: Uint8Array): void {
    this.#append(this.#decoder.decode(chunk, { stream: true }));
  }

  /** The stream has ended: a lone CR last ends a line now. */
  end(): void {
    this.#ended = true;
    this.#append(this.#decoder.decode());
  }

  /** The next complete line, without its ending; undefined until the next push. */
  nextLine(): string | undefined {
    const end = this.#lineEnd();
    if (end === -1) return undefined;
    const line = this.#text.slice(this.#at, end);
    this.#take();
    return line;
  }

  /**
   * The value of the next complete `data:` line (one space after the colon is not part of it);
   * other lines are passed over without being copied. Undefined until the next push.
   */
  nextData(): string | undefined {
    const text = this.#text;
    for (let end = this.#lineEnd(); end !== -1; end = this.#lineEnd()) {
      const at = this.#at;
      this.#take();
      // `data:` holds no line ending, so a match lies within this line (and a space after it too).
      if (!text.startsWith('data:', at)) continue;
      return text.slice(text.charCodeAt(at + 5) === SPACE ? at + 6 : at + 5, end);
    }
    return undefined;
  }

  #take(): void {
    this.#at = this.#next;
    this.#from = this.#next;
  }

  #append(piece: string): void {
    const rest = this.#at < this.#text.length ? this.#text.slice(this.#at) : '';
    const from = this.#from - this.#at;
    this.#text = rest === '' ? piece : rest + piece;
    this.#at = 0;
    this.#from = from;
    if (from === rest.length) {
      // The rest holds no line ending: the first ones are the piece's. A piece without any only
      // lengthens the waiting line, and is not searched (nor the joined text copied) again.
      const lf = piece.indexOf('\n');
      const cr = piece.indexOf('\r');
      this.#lf = lf === -1 ? -1 : from + lf;
      this.#cr = cr === -1 ? -1 : from + cr;
    } else {
      this.#lf = UNKNOWN;
      this.#cr = UNKNOWN;
    }
  }

  /** Where the line at `#at` ends (setting `#next`), or -1 while it is not complete. */
  #lineEnd(): number {
    const text = this.#text;
    const from = this.#from;
    if (this.#lf !== -1 && this.#lf < from) this.#lf = text.indexOf('\n', from);
    if (this.#cr !== -1 && this.#cr < from) this.#cr = text.indexOf('\r', from);
    const lf = this.#lf;
    const cr = this.#cr;
    if (cr === -1 || (lf !== -1 && lf < cr)) {
      if (lf === -1) {
        this.#from = text.length;
        return -1;
      }
      this.#next = lf + 1;
      return lf;
    }
    if (cr + 1 < text.length) {
      this.#next = text.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;
      return cr;
    }
    // A lone CR last may be the first half of a CRLF: wait for the next chunk, unless there is none.
    if (!this.#ended) {
      this.#from = cr;
      return -1;
    }
    this.#next = cr + 1;
    return cr;
  }
}

/** The complete lines of a byte stream (a last line without its ending is not complete). */
async function* readLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const lines = new LineSplitter();
  for await (const chunk of chunks) {
    lines.push(chunk);
    for (let line = lines.nextLine(); line !== undefined; line = lines.nextLine()) yield line;
  }
  lines.end();
  for (let line = lines.nextLine(); line !== undefined; line = lines.nextLine()) yield line;
}

function dataOf(line: string): string | undefined {
  if (!line.startsWith('data:')) return undefined;
  return line.slice(line.startsWith('data: ') ? 6 : 5);
}

/** Each complete event's data. An event cut before its blank line is dropped. */
export async function* readSseData(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  let data: string[] = [];
  for await (const line of readLines(chunks)) {
    if (line === '') {
      if (data.length > 0) yield data.join('\n');
      data = [];
      continue;
    }
    const value = dataOf(line);
    if (value !== undefined) data.push(value);
  }
}

/**
 * The value of each complete `data:` line; every other line (blank, comment, `event:`, `id:`,
 * stray text) is skipped. A last line cut before its line ending is dropped: it may be half a chunk.
 */
export async function* readDataLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const lines = new LineSplitter();
  for await (const chunk of chunks) {
    lines.push(chunk);
    for (let data = lines.nextData(); data !== undefined; data = lines.nextData()) yield data;
  }
  lines.end();
  for (let data = lines.nextData(); data !== undefined; data = lines.nextData()) yield data;
}
