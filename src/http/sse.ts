/**
 * Server-sent events over a byte stream. Lines are split on CRLF, LF or CR, decoded as UTF-8
 * across chunk boundaries.
 * - `readSseData`: the WHATWG "event stream" format: each event's data (lines joined, dispatched
 *   on a blank line); comments and other fields are ignored.
 * - `readDataLines`: each `data:` line on its own, as the Python SDK reads a chat stream
 *   (`iter_lines`): it needs no blank line between chunks, and one chunk is one line.
 */

/** The complete lines of a byte stream (a last line without its ending is not complete). */
async function* readLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  // Consumes the complete lines in `buffer`; at the end of the stream a trailing lone CR ends a line too.
  function* lines(ended: boolean): Generator<string> {
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      if (!match) return;
      // A lone CR at the end may be the first half of CRLF: wait for the next chunk, unless there is none.
      if (!ended && match[0] === '\r' && match.index === buffer.length - 1) return;
      yield buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
    }
  }
  for await (const chunk of chunks) {
    buffer += decoder.decode(chunk, { stream: true });
    yield* lines(false);
  }
  buffer += decoder.decode();
  yield* lines(true);
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
  for await (const line of readLines(chunks)) {
    const value = dataOf(line);
    if (value !== undefined) yield value;
  }
}
