/**
 * A transport on node:http (and node:https for an https origin, loaded then): for a process that
 * makes a request or two and exits, where undici's start-up (compiling its WebAssembly parser, about
 * 300 ms on a small machine) would be most of its life. The CLI's commands use it when no proxy is
 * configured (node:http does not read HTTP(S)_PROXY; undici does). Timeouts as undici's: one for
 * the reply's headers, one for each pause in its body, failing with undici's codes.
 */
import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import * as http from 'node:http';
import type { ReplyBody, Transport, TransportRequest, TransportResponse } from './transport.js';

function timeoutError(code: 'UND_ERR_HEADERS_TIMEOUT' | 'UND_ERR_BODY_TIMEOUT', ms: number): Error {
  const what = code === 'UND_ERR_HEADERS_TIMEOUT' ? 'headers' : 'body';
  return Object.assign(new Error(`no reply ${what} within ${ms} ms`), { code });
}

/** The reply as a body: its stream, with `dump()` (drops the rest and the connection with it). */
function replyBody(reply: IncomingMessage): ReplyBody {
  return Object.assign(reply, {
    dump: async () => {
      reply.destroy();
    },
  }) as unknown as ReplyBody;
}

/**
 * Fails the reply when its body pauses longer than `ms`: a timer pushed back by every arrival on the
 * socket (listening to the reply itself would start its flow before the reader is there).
 */
function watchPauses(reply: IncomingMessage, ms: number): void {
  const socket = reply.socket;
  const timer = setTimeout(() => reply.destroy(timeoutError('UND_ERR_BODY_TIMEOUT', ms)), ms);
  const arrived = () => timer.refresh();
  socket?.on('data', arrived);
  const stop = () => {
    clearTimeout(timer);
    socket?.off('data', arrived);
  };
  reply.once('end', stop);
  reply.once('close', stop);
}

export function nodeHttpTransport(): Transport {
  const agents = new Map<string, Agent>();
  const agentFor = async (protocol: string): Promise<{ agent: Agent; request: typeof http.request }> => {
    const module = protocol === 'https:' ? await import('node:https') : http;
    let agent = agents.get(protocol);
    if (agent === undefined) {
      agent = new module.Agent({ keepAlive: true });
      agents.set(protocol, agent);
    }
    return { agent, request: module.request as typeof http.request };
  };

  return {
    async request(options: TransportRequest): Promise<TransportResponse> {
      const url = new URL(options.origin);
      const { agent, request } = await agentFor(url.protocol);
      const init: RequestOptions = {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port,
        path: options.path,
        method: options.method,
        headers:
          options.body === undefined
            ? options.headers
            : { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
        agent,
        signal: options.signal,
      };
      return new Promise((resolve, reject) => {
        let outgoing: ClientRequest | undefined;
        const headersTimer = setTimeout(() => {
          outgoing?.destroy(timeoutError('UND_ERR_HEADERS_TIMEOUT', options.headersTimeout));
        }, options.headersTimeout);
        outgoing = request(init, (reply) => {
          clearTimeout(headersTimer);
          watchPauses(reply, options.bodyTimeout);
          resolve({ statusCode: reply.statusCode ?? 0, headers: reply.headers, body: replyBody(reply) });
        });
        outgoing.once('error', (error) => {
          clearTimeout(headersTimer);
          reject(error);
        });
        outgoing.end(options.body);
      });
    },
    async close() {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}
