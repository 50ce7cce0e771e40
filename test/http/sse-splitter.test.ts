// The line splitter under the chat stream (src/http/sse.ts LineSplitter): it finds lines by offsets
// and remembered LF/CR positions instead of a regex over the whole rest, so each edge a chunk
// boundary can cut is pinned here, and a property checks it against the plain regex reading it
// replaced, however the bytes are split.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/http/sse.js';

const encode = (text: string) => new TextEncoder().encode(text);

/** Every line (or every data value) the splitter answers for these chunks, the end included. */
function split(chunks: Array<string | Uint8Array>, take: 'lines' | 'data' = 'lines'): string[] {
  const lines = new LineSplitter();
  const out: string[] = [];
  const drain = () => {
    for (let line = next(); line !== undefined; line = next()) out.push(line);
  };
  const next = () => (take === 'lines' ? lines.nextLine() : lines.nextData());
  for (const chunk of chunks) {
    lines.push(typeof chunk === 'string' ? encode(chunk) : chunk);
    drain();
  }
  lines.end();
  drain();
  return out;
}

/** The reading LineSplitter replaced: a regex over the whole rest, per line. */
function reference(text: string): string[] {
  const out: string[] = [];
  let buffer = text;
  for (let match = /\r\n|\r|\n/.exec(buffer); match; match = /\r\n|\r|\n/.exec(buffer)) {
    out.push(buffer.slice(0, match.index));
    buffer = buffer.slice(match.index + match[0].length);
  }
  return out;
}

/** `bytes` cut at `cuts` (positions, any order, repeats allowed). */
function cutAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const point of [...points, bytes.length]) {
    pieces.push(bytes.subarray(at, point));
    at = point;
  }
  return pieces;
}

describe('LineSplitter', () => {
  it('a CR last in a chunk waits for the next: a CRLF split between chunks is one line ending', () => {
    expect(split(['data: a\r', '\ndata: b\r\n'], 'data')).toEqual(['a', 'b']);
    expect(split(['one\r', '\n', '\r', '\ntwo\n'])).toEqual(['one', '', 'two']);
  });

  it('a CR last in a chunk followed by other text ends its line there', () => {
    expect(split(['one\r', 'two\r', 'three\n'])).toEqual(['one', 'two', 'three']);
  });

  it('a lone CR last in the stream ends its line at the end', () => {
    expect(split(['data: [DONE]\r'], 'data')).toEqual(['[DONE]']);
    expect(split(['a\r\r'])).toEqual(['a', '']);
  });

  it('a last line without its ending is dropped', () => {
    expect(split(['data: whole\n', 'data: {"cut'], 'data')).toEqual(['whole']);
    expect(split(['no ending at all'])).toEqual([]);
  });

  it('a multi-byte character split between chunks arrives whole', () => {
    const bytes = encode('data: héllo ✓ 🙂\n');
    expect(
      split(
        [...bytes].map((byte) => Uint8Array.of(byte)),
        'data',
      ),
    ).toEqual(['héllo ✓ 🙂']);
  });

  it('data with or without a space after the colon; only one space is taken off', () => {
    expect(split(['data:x\ndata: y\ndata:  z\ndata:\ndata: \n'], 'data')).toEqual(['x', 'y', ' z', '', '']);
  });

  it('data passes over every other line: comments, fields, blank lines, stray text, a bare "data"', () => {
    expect(split([': keep-alive\nevent: x\nid: 3\n\nstray\ndata\ndat\nDATA: no\ndata: yes\n'], 'data')).toEqual(['yes']);
  });

  it('a line longer than many chunks arrives whole, with the lines around it', () => {
    const pieces = Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(100, 'x'));
    const long = pieces.join('');
    const chunks = ['data: a\ndata: ', ...pieces, '\ndata: b\n'];
    expect(split(chunks, 'data')).toEqual(['a', long, 'b']);
  });

  it('LF, CRLF and CR endings mixed, in any order', () => {
    expect(split(['a\nb\r\nc\rd\n\re\r\n\n'])).toEqual(['a', 'b', 'c', 'd', '', 'e', '']);
  });

  it('gives the lines the plain regex reading gives, however the bytes are split', () => {
    const line = fc.string({ unit: fc.constantFrom('a', 'é', '✓', ' ', ':', 'data: ', '\r', '\n', '\r\n') });
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.array(fc.nat({ max: 200 }), { maxLength: 12 }), (parts, cuts) => {
        const text = parts.join('');
        // The reference drops a last line without its ending too, but reads a CR last as one.
        expect(split(cutAt(encode(text), cuts))).toEqual(reference(text));
      }),
      { numRuns: 500 },
    );
  });
});
