// The hand-written checks of replies (replies.ts) against their zod schemas (schemas.ts): a check
// may hand a body to zod, but it must never accept one the schema refuses, and what it answers
// must be what zod answers. No I/O.
import { describe, expect, it } from 'vitest';
import {
  chatChunkOf,
  chatReply,
  getKeyReply,
  listKeysReply,
  loadSchemas,
  profileReply,
  type Reply,
  storeKeyReply,
} from '../../src/client/replies.js';
import { ErrorCode } from '../../src/errors/codes.js';
import type { HttpResponse } from '../../src/http/http-client.js';
import { readReply } from '../../src/http/reply-body.js';

/** Values a field may take in a body, good and bad. */
const FIELD_VALUES: unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  1.5,
  '',
  'text',
  'true',
  [],
  ['a'],
  ['a', 'b_c'],
  ['a', 1],
  [null],
  [['a']],
  [{}],
  {},
  { keys: ['a'] },
  { id: 'u1' },
  { id: 'u1', email: 'a@b.c', name: null, credits: 2 },
  { id: 1 },
  { id: 'u1', credits: 'many' },
];

/** Bodies: not objects at all, then objects with every combination of the fields the schemas read. */
function corpus(fields: string[]): unknown[] {
  const bodies: unknown[] = [undefined, null, 0, 'keys', true, [], [{ keys: [] }], ['a']];
  const combine = (index: number, body: Record<string, unknown>) => {
    if (index === fields.length) {
      bodies.push(body, { ...body, extra: 'kept' }, { ...body, extra: null });
      return;
    }
    for (const value of FIELD_VALUES) {
      const next = { ...body };
      if (value !== undefined) next[fields[index] as string] = value;
      combine(index + 1, next);
    }
  };
  combine(0, {});
  // And what JSON.parse gives for a few texts (own __proto__ keys, nested junk).
  for (const text of ['{"__proto__":{"keys":["x"]}}', '{"keys":["a"],"keys2":[1]}', '{"keys":[],"success":"yes"}']) {
    bodies.push(JSON.parse(text));
  }
  return bodies;
}

const CASES: Array<[string, Reply<unknown>, string[]]> = [
  ['listKeysReply', listKeysReply, ['keys']],
  ['getKeyReply', getKeyReply, ['success', 'keyValue', 'key']],
  ['storeKeyReply', storeKeyReply, ['success']],
  ['profileReply (flat)', profileReply, ['id', 'email', 'credits']],
  ['profileReply (nested)', profileReply, ['profile', 'name']],
];

const fastParse = <T>(reply: Reply<T>, json: unknown) => reply.fast?.(json);

describe('fast reply checks', () => {
  it.each(CASES)('%s: never accepts what zod refuses, and answers what zod answers', async (_name, reply, fields) => {
    const schema = (await loadSchemas())[reply.schema];
    let fast = 0;
    for (const body of corpus([...fields])) {
      const quick = fastParse(reply, body);
      if (quick === undefined) continue;
      fast++;
      const parsed = schema.safeParse(body);
      expect(parsed.success, `fast path accepted ${JSON.stringify(body)}`).toBe(true);
      expect(quick).toEqual(parsed.data);
    }
    // Not vacuous: the common shapes do take the fast path.
    expect(fast).toBeGreaterThan(3);
  });

  it('takes the fast path for the common shapes', () => {
    const list = { keys: ['u_openai', 'u_anthropic'] };
    expect(fastParse(listKeysReply, list)).toBe(list);
    expect(fastParse(getKeyReply, { success: true, keyValue: 'sk' })).toEqual({ success: true, keyValue: 'sk' });
    expect(fastParse(storeKeyReply, { success: true, message: 'ok' })).toEqual({ success: true, message: 'ok' });
    expect(fastParse(listKeysReply, { keys: ['a', 2] })).toBeUndefined();
    expect(fastParse(profileReply, { id: 'u1', email: 'a@b.c', credits: 3 })).toEqual({ id: 'u1', email: 'a@b.c', credits: 3 });
    expect(fastParse(profileReply, { profile: { id: 'u1', name: null } })).toEqual({ id: 'u1', name: null });
    expect(fastParse(profileReply, { id: 7 })).toBeUndefined(); // a number id: the schema converts it
  });

  it('refuses through zod with the same error as before', async () => {
    const response: HttpResponse = {
      status: 200,
      headers: {},
      requestId: 'req_1',
      json: { keys: ['a', 2] },
      text: '{"keys":["a",2]}',
      rateLimit: undefined,
      attempts: 1,
    };
    await expect(readReply(listKeysReply, response, 'Listing keys')).rejects.toThrow(
      expect.objectContaining({
        code: ErrorCode.INVALID_RESPONSE,
        status: 200,
        requestId: 'req_1',
        message: 'Listing keys: the backend answered HTTP 200 with a body that does not match the contract.',
      }),
    );
  });
});

describe('chat replies', () => {
  const contents: unknown[] = ['Hello', '', null, 3, [{ type: 'text', text: 'a' }], undefined];
  const choiceLists: unknown[] = [undefined, 'x', [], [null], [{}], [{ message: 'x' }]];
  for (const content of contents) {
    const message = content === undefined ? {} : { role: 'assistant', content };
    choiceLists.push(
      [{ index: 0, message }],
      [
        { index: 0, message },
        { index: 1, message: { content: 'b' } },
      ],
    );
    choiceLists.push([
      { index: 0, message: { content: 'a' } },
      { index: 1, message },
    ]);
  }
  const usages: unknown[] = [
    undefined,
    null,
    {},
    { prompt_tokens: 1, completion_tokens: 2 },
    { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, prompt_tokens_details: { cached: 0 } },
    { prompt_tokens: 1, completion_tokens: 2, total_tokens: 'x' },
  ];
  const metas: unknown[] = [{}, { id: 'c1', model: 'gpt-4o' }, { id: 7 }, { model: null }, { provider: 'openai', extra: [1] }];
  const bodies: unknown[] = [null, [], 'text', { content: 'a' }, { message: { content: 'a' } }];
  for (const choices of choiceLists) {
    for (const usage of usages) {
      for (const meta of metas) {
        const body: Record<string, unknown> = { ...(meta as object) };
        if (choices !== undefined) body.choices = choices;
        if (usage !== undefined) body.usage = usage;
        bodies.push(body);
      }
    }
  }

  it('the hand check of a chat reply never accepts what chatSchema refuses, and answers what it answers', async () => {
    const { chatSchema } = await loadSchemas();
    let fast = 0;
    for (const body of bodies) {
      const quick = fastParse(chatReply, body);
      if (quick === undefined) continue;
      fast++;
      const parsed = chatSchema.safeParse(body);
      expect(parsed.success, `fast path accepted ${JSON.stringify(body)}`).toBe(true);
      expect(quick).toEqual(parsed.data);
    }
    expect(fast).toBeGreaterThan(20); // the OpenAI shape with text content takes it
  });
});

describe('streamed chunks', () => {
  const deltas: unknown[] = [
    undefined,
    null,
    'text',
    '',
    3,
    {},
    [],
    { content: 'a' },
    { content: null },
    { content: 3 },
    { role: 'x' },
  ];
  const usages: unknown[] = [
    undefined,
    null,
    'x',
    {},
    { prompt_tokens: 1, completion_tokens: 2 },
    { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, extra: true },
    { prompt_tokens: '1', completion_tokens: 2 },
    { prompt_tokens: 1, completion_tokens: 2, total_tokens: 'x' },
  ];
  const events: unknown[] = [null, 1, 'chunk', [], {}, { choices: 'x' }, { choices: [] }, { choices: [1] }, { choices: [null] }];
  for (const delta of deltas) {
    for (const usage of usages) {
      const choice = delta === undefined ? { index: 0 } : { index: 0, delta };
      events.push({ choices: [choice], usage, id: 'c1' }, { usage }, { choices: [choice, { delta: 5 }] });
    }
  }

  it('the hand reading of a chunk decides as chatChunkSchema does, and gives what it gives', async () => {
    const { chatChunkSchema } = await loadSchemas();
    for (const event of events) {
      const mine = chatChunkOf(event);
      const parsed = chatChunkSchema.safeParse(event);
      expect(mine !== undefined, `accepted ${JSON.stringify(event)}`).toBe(parsed.success);
      if (parsed.success) expect(mine).toEqual(parsed.data);
    }
  });
});
