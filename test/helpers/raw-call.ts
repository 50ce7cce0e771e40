/** One HTTP request to the reference backend as a test makes it by hand (no SDK): the status and the body, parsed when JSON. */

export interface RawCallOptions {
  /** @default the caller's default (GET for reads, POST for chats) */
  method?: string;
  /** Sent as JSON; a string is sent as it is. */
  body?: unknown;
  /** A bearer token, or null for none. */
  credential?: string | null;
  headers?: Record<string, string>;
}

export interface RawReply {
  status: number;
  json: Record<string, unknown>;
  text: string;
  headers: Headers;
}

export async function rawCall(baseUrl: string, path: string, options: RawCallOptions & { method: string }): Promise<RawReply> {
  const { method, body, credential, headers = {} } = options;
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(credential ? { authorization: `Bearer ${credential}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {}
  return { status: response.status, json, text, headers: response.headers };
}
