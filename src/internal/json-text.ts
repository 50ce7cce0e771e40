/** A reply body as JSON, or `undefined` when it is empty or not JSON (an HTML page from a proxy, say). */
export function jsonOrUndefined(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
