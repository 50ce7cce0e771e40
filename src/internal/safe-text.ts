/**
 * Text another party wrote (a server's error message, a header, a redirect target) reaches our
 * messages and log lines as one line of plain characters: a CR or LF could forge a whole
 * `[mesh-sdk] warning:` line of its own, an ESC sequence could recolour or rewrite the terminal,
 * a BEL rings it, and a bidirectional override could make a line read differently than it is.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control and bidirectional-formatting character replaced by a space. */
export function oneLine(text: string): string {
  return text.replace(UNSAFE, ' ');
}
