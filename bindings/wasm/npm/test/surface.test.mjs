// The JavaScript idioms of the MCP surface, against a scripted 2026-07-28 server
// (support/modern-server.mjs): input handlers (the capabilities declared from the handlers
// given, an elicitation answered, a handler that fails), `notifications()` and `subscribe()`
// as async iterables with their ending (server end, break/return, signal, close, failure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
// WORKBOARD_ENTRY: the entry under test (test.sh runs this suite on `token-node.js` too).
const { WorkboardClient, NotificationStream } = await import(process.env.WORKBOARD_ENTRY ?? '../node.js');
import { ModernServer } from './support/modern-server.mjs';

// A bound, not a timed assertion: a regression that leaves an iteration waiting fails the
// test instead of hanging the run.
const GUARD = { timeout: 60_000 };

const MCP = 'https://mcp.example.com/mcp';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';
const FORM = { message: 'How confident?', requestedSchema: { type: 'object', properties: { confidence: { type: 'integer' } }, required: ['confidence'] } };

function client(server, options = {}) {
  return new WorkboardClient({ mcpUrl: MCP, token: 'tok', fetch: server.fetch, ...options });
}

const isError = (code, kind) => (e) => {
  assert.equal(e.name, 'WorkboardError', String(e));
  assert.equal(e.code, code, e.message);
  if (kind) assert.equal(e.kind, kind);
  return true;
};

test('the client declares exactly the input capabilities whose handler the app gives', GUARD, async () => {
  const cases = [
    [undefined, {}],
    [{}, {}],
    [{ elicitation: async () => ({ action: 'cancel' }) }, { elicitation: { form: {} } }],
    [{ elicitationUrl: async () => ({ action: 'cancel' }) }, { elicitation: { url: {} } }],
    [{ sampling: async () => ({}), roots: async () => ({ roots: [] }) }, { roots: {}, sampling: {} }],
    [{ elicitation: () => ({ action: 'cancel' }), elicitationUrl: () => ({ action: 'cancel' }), sampling: () => ({}), roots: () => ({ roots: [] }) },
      { elicitation: { form: {}, url: {} }, roots: {}, sampling: {} }],
  ];
  for (const [inputHandlers, declared] of cases) {
    const server = new ModernServer();
    await client(server, { inputHandlers }).listTools();
    assert.deepEqual(server.of('tools/list')[0].body.params._meta[CAPS], declared, JSON.stringify(Object.keys(inputHandlers ?? {})));
  }
  assert.throws(() => new WorkboardClient({ inputHandlers: { elicitation: 'not a function' } }), isError('invalid_input'));
  assert.throws(() => new WorkboardClient({ inputHandlers: 5 }), isError('invalid_input'));
});

test('an elicitation is answered by the app\'s async handler: the answer and the state go back', GUARD, async () => {
  const server = new ModernServer();
  const asked = [];
  const c = client(server, {
    inputHandlers: {
      elicitation: async (request) => {
        asked.push(request);
        await new Promise((r) => setTimeout(r, 10)); // the user fills in the form
        return { action: 'accept', content: { confidence: 8 } };
      },
    },
  });
  const r = await c.callTool('ask', { method: 'elicitation/create', params: FORM });
  assert.deepEqual(asked, [FORM]);
  assert.deepEqual(JSON.parse(r.content[0].text), { answers: { q: { action: 'accept', content: { confidence: 8 } } }, state: 'st-1' });
  assert.equal(server.of('tools/call').length, 2);
});

test('sampling, roots and URL-mode elicitation reach their own handlers', GUARD, async () => {
  const server = new ModernServer();
  const seen = [];
  const c = client(server, {
    inputHandlers: {
      elicitation: () => { seen.push('form'); return { action: 'decline' }; },
      elicitationUrl: (r) => { seen.push(`url ${r.url}`); return { action: 'accept' }; },
      sampling: (r) => { seen.push(`sampling ${r.maxTokens}`); return { role: 'assistant', content: { type: 'text', text: 'hi' }, model: 'm' }; },
      roots: () => { seen.push('roots'); return { roots: [{ uri: 'file:///work' }] }; },
    },
  });
  const answer = async (method, params) => JSON.parse((await c.callTool('ask', { method, params })).content[0].text).answers.q;
  assert.deepEqual(await answer('elicitation/create', { mode: 'url', message: 'Go', url: 'https://x.example/ok', elicitationId: 'e1' }), { action: 'accept' });
  assert.deepEqual(await answer('sampling/createMessage', { messages: [], maxTokens: 5 }), { role: 'assistant', content: { type: 'text', text: 'hi' }, model: 'm' });
  assert.deepEqual(await answer('roots/list', {}), { roots: [{ uri: 'file:///work' }] });
  assert.deepEqual(await answer('elicitation/create', FORM), { action: 'decline' });
  assert.deepEqual(seen, ['url https://x.example/ok', 'sampling 5', 'roots', 'form']);
});

test('a handler that throws, rejects or answers garbage fails the call with a typed error', GUARD, async () => {
  const outcomes = [
    [() => { throw new Error('the form broke'); }, 'invalid_input'],
    [async () => { throw new DOMException('dismissed', 'AbortError'); }, 'cancelled'],
    [() => 'not an object', 'invalid_input'],
    [() => [1, 2], 'invalid_input'],
    [() => undefined, 'invalid_input'],
    [() => ({ big: 10n }), 'invalid_input'],
  ];
  for (const [elicitation, code] of outcomes) {
    const server = new ModernServer();
    const c = client(server, { inputHandlers: { elicitation } });
    await assert.rejects(c.callTool('ask', { method: 'elicitation/create', params: FORM }), isError(code));
    // Nothing went back to the server, and the client keeps working.
    assert.equal(server.of('tools/call').length, 1);
    assert.equal((await c.callTool('other', {})).content[0].text, 'ok');
  }
  // Input the app did not declare is refused by the client (nothing sent back).
  const server = new ModernServer();
  const c = client(server, { inputHandlers: { sampling: () => ({}) } });
  await assert.rejects(c.callTool('ask', { method: 'elicitation/create', params: FORM }), isError('protocol_error', 'protocol'));
  assert.equal(server.of('tools/call').length, 1);
});

test('notifications(): a call\'s log messages, in order, as an async iterable that ends with close()', GUARD, async () => {
  const server = new ModernServer();
  const c = client(server, { logLevel: 'debug' });
  const stream = c.notifications();
  assert.ok(stream instanceof NotificationStream);
  assert.equal(stream.ended, undefined);
  const r = await c.callTool('logged', {});
  assert.equal(r.content[0].text, 'logged');
  assert.equal(server.of('tools/call')[0].body.params._meta['io.modelcontextprotocol/logLevel'], 'debug');
  const closing = c.close();
  const got = [];
  for await (const n of stream) got.push(`${n.method} ${n.params.level} ${n.params.data}`);
  await closing;
  assert.deepEqual(got, ['notifications/message info step 1', 'notifications/message debug step 2']);
  // A stream asked for after close is already over.
  assert.deepEqual(await c.notifications().next(), { value: undefined, done: true });
  assert.throws(() => new WorkboardClient({ logLevel: 'loud', fetch: server.fetch }), isError('invalid_input'));
});

test('subscribe(): the notifications in order, then the server\'s end (ended: true)', GUARD, async () => {
  const server = new ModernServer();
  const c = client(server);
  const sub = c.subscribe({ toolsListChanged: true, resourceSubscriptions: ['workboard://goal/1'] });
  const got = [];
  for await (const n of sub) got.push(n.method);
  assert.deepEqual(got, ['notifications/subscriptions/acknowledged', 'notifications/tools/list_changed']);
  assert.equal(await sub.ended, true);
  assert.deepEqual(server.of('subscriptions/listen')[0].body.params.notifications, { toolsListChanged: true, resourceSubscriptions: ['workboard://goal/1'] });
  assert.deepEqual(await sub.next(), { value: undefined, done: true });
});

test('breaking out of `for await` closes the subscription: its stream is aborted, ended rejects cancelled', GUARD, async () => {
  const server = new ModernServer({ openListen: true });
  const c = client(server);
  const sub = c.subscribe({ toolsListChanged: true });
  for await (const n of sub) {
    if (n.method === 'notifications/tools/list_changed') break;
  }
  await assert.rejects(sub.ended, isError('cancelled', 'cancelled'));
  assert.deepEqual(server.aborted, ['subscriptions/listen']);
  assert.deepEqual(await sub.next(), { value: undefined, done: true });
});

test('a subscription ends with its AbortSignal, with close(), and throws when it fails', GUARD, async () => {
  // Its signal.
  let server = new ModernServer({ openListen: true });
  let c = client(server);
  const ac = new AbortController();
  const sub = c.subscribe({ toolsListChanged: true }, { signal: ac.signal });
  assert.equal((await sub.next()).value.method, 'notifications/subscriptions/acknowledged');
  const rest = (async () => { const got = []; for await (const n of sub) got.push(n.method); return got; })();
  await new Promise((r) => setTimeout(r, 10));
  ac.abort();
  assert.deepEqual(await rest, ['notifications/tools/list_changed']);
  await assert.rejects(sub.ended, isError('cancelled'));
  assert.deepEqual(server.aborted, ['subscriptions/listen']);
  // An aborted signal: nothing is sent.
  assert.throws(() => c.subscribe({ toolsListChanged: true }, { signal: AbortSignal.abort() }), isError('cancelled'));
  assert.equal(server.of('subscriptions/listen').length, 1);
  // close() ends every subscription (and `using` / free() would too).
  const other = c.subscribe({ promptsListChanged: true });
  await other.next();
  const pending = (async () => { for await (const _ of other) { /* drain */ } return 'done'; })();
  await c.close();
  assert.equal(await pending, 'done');
  await assert.rejects(other.ended, isError('cancelled'));
  // A subscription the server refuses: the iteration throws its error.
  server = new ModernServer({ failListen: true });
  c = client(server);
  const failed = c.subscribe({ toolsListChanged: true });
  await assert.rejects((async () => { for await (const _ of failed) { /* none */ } })(), isError('jsonrpc_error'));
  await assert.rejects(failed.ended, isError('jsonrpc_error'));
  // Bad filters are typed errors before anything is sent.
  for (const bad of [5, 'x', null, { toolsListChanged: 'yes' }, { tools: true }, { resourceSubscriptions: 'workboard://goal/1' }]) {
    assert.throws(() => c.subscribe(bad), isError('invalid_input'), JSON.stringify(bad));
  }
  assert.equal(server.of('subscriptions/listen').length, 1);
});

test('next() calls made at once are answered in order', GUARD, async () => {
  const server = new ModernServer();
  const c = client(server);
  const sub = c.subscribe({ toolsListChanged: true });
  const [a, b, d] = await Promise.all([sub.next(), sub.next(), sub.next()]);
  assert.deepEqual([a.value.method, b.value.method, d.done], ['notifications/subscriptions/acknowledged', 'notifications/tools/list_changed', true]);
});

test('request(): a method the SDK does not model, its result as sent; errors typed', GUARD, async () => {
  const server = new ModernServer();
  const c = client(server);
  const r = await c.request('x/echo', { a: [1, 'two'] });
  assert.deepEqual(r.echo.a, [1, 'two']);
  assert.equal(server.of('x/echo')[0].headers['mcp-method'], 'x/echo');
  await assert.rejects(c.request('x/unknown'), isError('jsonrpc_error'));
  await assert.rejects(c.request('initialize', {}), (e) => e.name === 'WorkboardError' && e.kind === 'invalid_input');
  await assert.rejects(c.request('x/echo', { a: 1 }, { signal: AbortSignal.abort() }), isError('cancelled'));
  await assert.rejects(c.request(5), isError('invalid_input'));
});

test('requestWithClientInput(): a proxy\'s client runs the rounds: input_required as sent, its answers and state passed through', GUARD, async () => {
  const server = new ModernServer();
  let asked = 0;
  const c = client(server, { inputHandlers: { elicitation: () => { asked += 1; return { action: 'cancel' }; } } });
  const proxied = { 'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} }, roots: {} } };
  const round = await c.requestWithClientInput('tools/call',
    { name: 'ask', arguments: { method: 'elicitation/create', params: FORM }, _meta: proxied });
  assert.equal(round.resultType, 'input_required');
  assert.deepEqual(round.inputRequests.q, { method: 'elicitation/create', params: FORM });
  assert.equal(round.requestState, 'st-1');
  assert.equal(asked, 0, 'this client\'s handler is not asked');
  const sent = server.of('tools/call')[0].body.params;
  assert.deepEqual(sent._meta[CAPS], proxied[CAPS], 'the proxied client\'s capabilities');
  const answers = { q: { action: 'accept', content: { confidence: 3 } } };
  const done = await c.requestWithClientInput('tools/call',
    { name: 'ask', arguments: {}, inputResponses: answers, requestState: round.requestState, _meta: proxied });
  assert.deepEqual(JSON.parse(done.content[0].text), { answers, state: 'st-1' });
  // request() drops them: this client's rounds are its own.
  await c.request('tools/call', { name: 'ask', arguments: { method: 'elicitation/create', params: FORM }, inputResponses: answers, requestState: 'forged' });
  const plain = server.of('tools/call').at(-2).body.params;
  assert.equal(plain.inputResponses, undefined);
  assert.equal(asked, 1);
  await assert.rejects(c.requestWithClientInput('notifications/x', {}), isError('invalid_input'));
  await assert.rejects(c.requestWithClientInput('x/echo', {}, { signal: AbortSignal.abort() }), isError('cancelled'));
});

test('connect() takes a signal like the other calls', GUARD, async () => {
  const server = new ModernServer();
  const c = client(server);
  await assert.rejects(c.connect({ signal: AbortSignal.abort() }), isError('cancelled'));
  assert.equal(server.requests.length, 0, 'an aborted signal sends nothing');
  const ac = new AbortController();
  const pending = c.connect({ signal: ac.signal });
  ac.abort();
  await assert.rejects(pending, isError('cancelled'));
  // The modern ping is server/discover; connect resolves once it is answered.
  await c.connect();
  assert.ok(server.of('server/discover').length >= 1);
});
