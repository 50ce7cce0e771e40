/**
 * A server-sent events reader (the WHATWG "event stream" format) over a byte stream: yields each
 * event's data. Lines are split on CRLF, LF or CR; comments and other fields are ignored.
 */
export async function* readSseData(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
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
  function* take(line: string): Generator<string> {
    if (line === '') {
      if (data.length > 0) yield data.join('\n');
      data = [];
    } else if (line.startsWith('data:')) {
      data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
  }
  for await (const chunk of chunks) {
    buffer += decoder.decode(chunk, { stream: true });
    for (const line of lines(false)) yield* take(line);
  }
  buffer += decoder.decode();
  for (const line of lines(true)) yield* take(line);
}
