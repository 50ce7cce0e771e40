/** What the Python SDK writes: its token files and keychain entries are `json.dumps` of a flat dict. */

/** `json.dumps` of a flat object: ", " and ": " separators, keys in insertion order (checked with python3 3.11). */
export function pythonDumps(value: Record<string, unknown>): string {
  return `{${Object.entries(value)
    .map(([key, item]) => `${JSON.stringify(key)}: ${JSON.stringify(item)}`)
    .join(', ')}}`;
}

/** A `.mesh_token.json` as the Python SDK writes it after a login: the reply, plus `expires_at`. */
export function pythonTokenFile(
  reply: { access_token: string; refresh_token?: string; expires_in: number },
  expiresAt: number = Math.floor(Date.now() / 1000) + reply.expires_in,
): string {
  return pythonDumps({ ...reply, expires_at: expiresAt });
}
