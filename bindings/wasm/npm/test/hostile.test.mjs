// Every export and method called with hostile arguments: wrong types, garbage, huge and
// oddly encoded strings, calls in the wrong state. Each call must return, or throw/reject a
// WorkboardError with a code; none may trap the module (a Rust panic aborts the instance:
// `RuntimeError: unreachable`), hang, or leave the instance unusable. Secrets given as
// arguments never appear in what comes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkboardClient, NotificationStream, startV1SignIn, handleV1Redirect, version } from '../node.js';
import { ModernServer } from './support/modern-server.mjs';

const SECRET = 'hostile-secret-0123456789';
const HUGE = 'x'.repeat(2_000_000);
const LONE_SURROGATE = 'a\uD800b\uDFFFc';

// Values for any argument position.
const ANY = [
  undefined,
  null,
  0,
  -1.5,
  NaN,
  true,
  '',
  '   ',
  'not json {',
  '{"kind":"oauth"}',
  '[]',
  'https://',
  'http://[::1',
  'https://www.myworkboard.com/wb/mcp?x=1#y',
  LONE_SURROGATE,
  HUGE,
  SECRET,
  [],
  [1, 2],
  {},
  { redirectUri: 5 },
  { redirectUri: 'javascript:alert(1)', clientId: SECRET },
  { redirectUri: 'https://app.example/cb', clientSecret: SECRET },
  { clientId: {}, scopes: 'all', redirectUri: [] },
  { code: SECRET, state: 5 },
  { signal: 'not a signal' },
  () => {},
  new Date(0),
];

// A fetch that fails at once, so that calls which reach the network end quickly.
const failingFetch = async () => {
  throw new TypeError('fetch failed (test)');
};

function freshClient() {
  return new WorkboardClient({
    environment: 'http://127.0.0.1:9',
    fetch: failingFetch,
    token: 'tok_hostile',
    timeoutMs: 2000,
  });
}

function check(label, outcome) {
  if (outcome.ok) return;
  const e = outcome.error;
  assert.ok(!(e instanceof WebAssembly.RuntimeError), `${label}: the module trapped: ${e}`);
  assert.ok(e instanceof Error, `${label}: threw a non-Error: ${String(e)}`);
  assert.equal(e.name, 'WorkboardError', `${label}: not a WorkboardError: ${e.name}: ${e.message}`);
  assert.equal(typeof e.code, 'string', `${label}: no code`);
  assert.ok(e.code.length > 0, `${label}: empty code`);
  assert.ok(typeof e.kind === 'string' && e.kind.length > 0, `${label}: no kind`);
  const text = `${e.message} ${e.hint ?? ''}`;
  assert.ok(!text.includes(SECRET), `${label}: the secret is in the error: ${text.slice(0, 200)}`);
  // The core bounds every message built from input (crates/workboard-core/src/untrusted.rs):
  // at most 512 bytes of message and 1024 of hint, so at most as many UTF-16 units; never
  // more than a short excerpt of an argument.
  assert.ok(e.message.length <= 512, `${label}: a message of ${e.message.length} characters`);
  assert.ok((e.hint ?? '').length <= 1024, `${label}: a hint of ${(e.hint ?? '').length} characters`);
  assert.ok(!text.includes('x'.repeat(300)), `${label}: the error echoes the 2 MB argument`);
}

async function attempt(fn) {
  try {
    const v = fn();
    if (v && typeof v.then === 'function') await v;
    // A stream: its first item (or its end, or its failure) too, then it is closed.
    if (v instanceof NotificationStream) {
      try {
        await Promise.race([v.next(), new Promise((r) => setTimeout(r, 50))]);
      } finally {
        v.close();
      }
    }
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

function assertHealthy(label) {
  assert.match(version(), /^\d+\.\d+\.\d+/, `${label}: version() broke`);
  const c = new WorkboardClient({ environment: 'eu', token: 'tok_after' });
  assert.equal(c.credentialsSummary().kind, 'personal', `${label}: a new client broke`);
  c.free();
}

const METHODS = [
  ['authContextJson', 0],
  ['callTool', 3],
  ['cancelAll', 0],
  ['clearCredentials', 0],
  ['close', 0],
  ['complete', 5],
  ['completeMcpSignIn', 2],
  ['connect', 1],
  ['credentialsJson', 0],
  ['credentialsSummary', 0],
  ['discover', 1],
  ['exchangeV1Code', 2],
  ['getPrompt', 3],
  ['handleV1Redirect', 2],
  ['listPrompts', 1],
  ['listResourceTemplates', 1],
  ['listResources', 1],
  ['listTools', 1],
  ['notifications', 0],
  ['offCredentialsChanged', 1],
  ['onCredentialsChanged', 1],
  ['ping', 1],
  ['readResource', 2],
  ['refreshMcpCredentials', 0],
  ['request', 3],
  ['requestWithClientInput', 3],
  ['revokeMcpCredentials', 0],
  ['revokeV1Credentials', 0],
  ['setCredentialsJson', 1],
  ['setToken', 1],
  ['startMcpSignIn', 1],
  ['startV1SignIn', 1],
  ['stepUpMcpSignIn', 1],
  ['storeError', 0],
  ['subscribe', 2],
];

// The methods of the notification streams (`subscribe`, `notifications`).
const STREAM_METHODS = [
  ['close', 0],
  ['next', 0],
  ['return', 0],
];

test('the hostile calls cover every method of WorkboardClient, with its arity', () => {
  const proto = WorkboardClient.prototype;
  const methods = Object.getOwnPropertyNames(proto)
    .filter((n) => !['constructor', 'free', '__destroy_into_raw'].includes(n))
    .filter((n) => typeof Object.getOwnPropertyDescriptor(proto, n).value === 'function')
    .sort()
    .map((n) => [n, proto[n].length]);
  assert.deepEqual(methods, [...METHODS].sort());
});

test('the hostile calls cover every method of NotificationStream', () => {
  const proto = NotificationStream.prototype;
  const methods = Object.getOwnPropertyNames(proto)
    .filter((n) => !['constructor', 'free', '__destroy_into_raw', 'ended'].includes(n))
    .filter((n) => typeof Object.getOwnPropertyDescriptor(proto, n).value === 'function')
    .sort()
    .map((n) => [n, proto[n].length]);
  assert.deepEqual(methods, [...STREAM_METHODS].sort());
  assert.equal(typeof proto[Symbol.asyncIterator], 'function');
});

test('the constructor and the free functions take any argument without trapping', async () => {
  for (const a of ANY) {
    check(`new WorkboardClient(${describe(a)})`, await attempt(() => new WorkboardClient(a)));
    check(`new WorkboardClient({environment: ${describe(a)}})`, await attempt(() => new WorkboardClient({ environment: a })));
    check(`new WorkboardClient({credentials: ${describe(a)}})`, await attempt(() => new WorkboardClient({ credentials: a })));
    check(`new WorkboardClient({authContext: ${describe(a)}})`, await attempt(() => new WorkboardClient({ authContext: a })));
    check(`new WorkboardClient({mcpUrl: ${describe(a)}})`, await attempt(() => new WorkboardClient({ mcpUrl: a })));
    check(`new WorkboardClient({store: ${describe(a)}})`, await attempt(() => new WorkboardClient({ store: a })));
    check(`new WorkboardClient({inputHandlers: ${describe(a)}})`, await attempt(() => new WorkboardClient({ inputHandlers: a })));
    check(`new WorkboardClient({inputHandlers: {elicitation: ${describe(a)}}})`, await attempt(() => new WorkboardClient({ inputHandlers: { elicitation: a, roots: a } })));
    check(`new WorkboardClient({era: ${describe(a)}})`, await attempt(() => new WorkboardClient({ era: a })));
    check(`new WorkboardClient({logLevel: ${describe(a)}})`, await attempt(() => new WorkboardClient({ logLevel: a })));
    check(`startV1SignIn(${describe(a)})`, await attempt(() => startV1SignIn(a)));
    for (const b of [undefined, 'https://app.example/cb?code=c&state=s', a]) {
      check(`handleV1Redirect(${describe(a)}, ${describe(b)})`, await attempt(() => handleV1Redirect(a, b)));
    }
  }
  assertHealthy('after the constructor and free functions');
});

test('options JSON cannot carry are typed invalid_input; JS-valued options are taken as given', () => {
  const cyclic = { name: 'app', version: '1' };
  cyclic.self = cyclic;
  for (const options of [{ timeoutMs: 10n }, { clientInfo: cyclic }, { environment: 'us', era: 1n }]) {
    assert.throws(() => new WorkboardClient(options),
      (e) => e.name === 'WorkboardError' && e.code === 'invalid_input' && /client options/.test(e.message), String(Object.keys(options)));
  }
  // The store, fetch, clock and input handlers are never serialized: a store that JSON cannot
  // carry (a cycle, a BigInt) is used as given.
  const saved = new Map([['credentials', new WorkboardClient({ token: SECRET }).credentialsJson()]]);
  const store = { load: (k) => saved.get(k), save: (k, v) => saved.set(k, v), remove: (k) => saved.delete(k), big: 1n };
  store.self = store;
  const c = new WorkboardClient({ store, now: () => 5, inputHandlers: { roots: async () => ({ roots: [] }) } });
  assert.equal(c.credentialsSummary().kind, 'personal');
  assert.equal(c.storeError(), undefined);
  c.clearCredentials();
  assert.equal(saved.has('credentials'), false);
  assertHealthy('after options JSON cannot carry');
});

test('every method takes any argument in any position without trapping', async () => {
  for (const [name, arity] of METHODS) {
    for (let pos = 0; pos < Math.max(arity, 1); pos++) {
      for (const a of ANY) {
        const c = freshClient();
        const args = Array.from({ length: arity }, (_, i) => (i === pos ? a : 'https://app.example/cb'));
        const label = `${name}(${args.map(describe).join(', ')})`;
        check(label, await attempt(() => c[name](...args)));
        c.free();
      }
    }
  }
  assertHealthy('after every method');
});

test('methods in the wrong state and after close are typed errors; the client stays usable', async () => {
  const c = freshClient();
  // No sign-in was started.
  check('completeMcpSignIn without a start', await attempt(() => c.completeMcpSignIn(null, 'https://app.example/cb?code=c&state=s')));
  check('handleV1Redirect without a start', await attempt(() => c.handleV1Redirect(null, 'https://app.example/cb?code=c&state=s')));
  check('stepUpMcpSignIn without a flow', await attempt(() => c.stepUpMcpSignIn('goals')));
  check('refresh with a personal token', await attempt(() => c.refreshMcpCredentials()));
  check('revokeV1 with a personal token', await attempt(() => c.revokeV1Credentials()));
  c.clearCredentials();
  check('listTools without credentials', await attempt(() => c.listTools()));
  c.setToken('tok_again');
  check('close', await attempt(() => c.close()));
  check('close twice', await attempt(() => c.close()));
  // close is final: every call after it is a typed error or does nothing.
  for (const [name, arity] of METHODS) {
    const args = Array.from({ length: arity }, () => 'https://app.example/cb');
    check(`${name} after close`, await attempt(() => c[name](...args)));
  }
  const stopped = await attempt(() => c.listTools());
  assert.ok(!stopped.ok && stopped.error.code === 'client_stopped' && stopped.error.kind === 'stopped', 'listTools after close');
  // Many calls at once, each failing at the transport, all settle.
  const d = freshClient();
  const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => attempt(() => (i % 2 ? d.listTools() : d.callTool('t', { i })))));
  outcomes.forEach((o, i) => check(`concurrent call ${i}`, o));
  assert.ok(outcomes.every((o) => !o.ok && o.error.code === 'transport'), 'every concurrent call is a transport error');
  d.free();
  assertHealthy('after wrong-state calls');
});

test('a hostile store (throwing, garbage, huge values) gives typed errors; the client keeps working in memory', async () => {
  const hostile = [
    () => { throw new Error(HUGE); },
    () => { throw 'a string'; },
    () => 5,
    () => ({ toString: () => 'x' }),
    () => HUGE,
    () => 'not json {',
    () => '{"kind":"oauth"}',
    () => LONE_SURROGATE,
  ];
  for (const [i, f] of hostile.entries()) {
    const store = { load: f, save: f, remove: f };
    // Loading at construction: a typed error (or a client when the value is usable).
    check(`store ${i}: construction`, await attempt(() => new WorkboardClient({ store, fetch: failingFetch })));
    // Given credentials are not loaded; saves and removes fail.
    const c = new WorkboardClient({ store: { ...store, load: () => null }, fetch: failingFetch, token: 'tok' });
    for (const fn of [() => c.setToken('tok_2'), () => c.clearCredentials(), () => c.setCredentialsJson('{"kind":"personal","token":"t3"}')]) {
      const o = await attempt(fn);
      check(`store ${i}: a write`, o);
    }
    check(`store ${i}: storeError`, await attempt(() => c.storeError()));
    const stored = c.storeError();
    if (stored !== undefined) check(`store ${i}: the stored error`, { ok: false, error: stored });
    assert.equal(JSON.parse(c.credentialsJson()).token, 't3', `store ${i}: the credentials are in use anyway`);
    check(`store ${i}: close`, await attempt(() => c.close()));
    c.free();
  }
  assertHealthy('after hostile stores');
});

test('streams, and calls of the new surface against a server, take any argument without trapping', async () => {
  const server = new ModernServer();
  const c = new WorkboardClient({ mcpUrl: 'https://mcp.example.com/mcp', token: 'tok', fetch: server.fetch });
  const HUGE_URI = `workboard://goal/${HUGE}`;
  for (const a of [...ANY, HUGE_URI, 'workboard://goal/\u0000', '%zz', 'file:///etc/passwd']) {
    // Bad URIs, names and JSON arguments reach a server that answers: typed results or errors.
    check(`readResource(${describe(a)})`, await attempt(() => c.readResource(a)));
    check(`getPrompt(${describe(a)}, ${describe(a)})`, await attempt(() => c.getPrompt(a, a)));
    check(`getPrompt('p', {x: ${describe(a)}})`, await attempt(() => c.getPrompt('p', { x: a })));
    check(`complete(${describe(a)}, ...)`, await attempt(() => c.complete(a, a, a, a)));
    check(`complete(ref/resource ${describe(a)})`, await attempt(() => c.complete({ type: 'ref/resource', uri: a }, 'id', a, { x: a })));
    check(`callTool('other', ${describe(a)})`, await attempt(() => c.callTool('other', a)));
    check(`callTool(${describe(a)}, {})`, await attempt(() => c.callTool(a, {})));
    check(`request(${describe(a)}, ${describe(a)})`, await attempt(() => c.request(a, a)));
    check(`request('x/echo', {x: ${describe(a)}})`, await attempt(() => c.request('x/echo', { x: a })));
    check(`requestWithClientInput(${describe(a)}, ${describe(a)})`, await attempt(() => c.requestWithClientInput(a, a)));
    check(`requestWithClientInput('tools/call', {inputResponses: ${describe(a)}, requestState: ${describe(a)}, _meta: {x: ${describe(a)}}})`,
      await attempt(() => c.requestWithClientInput('tools/call', { name: 'ask', inputResponses: a, requestState: a, _meta: { 'io.modelcontextprotocol/clientCapabilities': a } })));
    check(`subscribe(${describe(a)})`, await attempt(() => c.subscribe(a)));
    check(`subscribe({resourceSubscriptions: [${describe(a)}]})`, await attempt(() => c.subscribe({ resourceSubscriptions: [a] })));
    check(`subscribe({toolsListChanged: true}, ${describe(a)})`, await attempt(() => c.subscribe({ toolsListChanged: true }, a)));
    const s = c.subscribe({ toolsListChanged: true });
    for (const [name] of STREAM_METHODS) check(`stream.${name}(${describe(a)})`, await attempt(() => s[name](a, a)));
    check('stream.ended', await attempt(() => s.ended));
    const n = c.notifications();
    for (const [name] of STREAM_METHODS) check(`notifications().${name}(${describe(a)})`, await attempt(() => n[name](a)));
  }
  // Too many resources for one subscription: a typed error from its iteration.
  const many = c.subscribe({ resourceSubscriptions: Array.from({ length: 1000 }, (_, i) => `workboard://goal/${i}`) });
  check('subscribe(1000 resources)', await attempt(() => many.next()));
  check('callTool after the hostile calls', await attempt(() => c.callTool('other', {})));
  await c.close();
  assertHealthy('after the hostile stream calls');
});

test('hostile input handlers and answers (throwing, garbage, huge, secret) are typed errors', async () => {
  const FORM = { message: 'm', requestedSchema: { type: 'object', properties: {} } };
  const circular = {}; circular.self = circular;
  const answers = [
    () => { throw new Error(`${SECRET} ${HUGE}`); },
    () => { throw SECRET; },
    () => { throw null; },
    async () => { throw { code: 'cancelled' }; },
    () => Promise.reject(new Error(HUGE)),
    () => undefined, () => null, () => 5, () => HUGE, () => [], () => circular, () => ({ x: 10n }),
    () => ({ action: HUGE }), () => ({ action: 'accept', content: { note: HUGE } }), () => ({ action: LONE_SURROGATE }),
    () => ({ toJSON() { throw new Error(SECRET); } }),
    () => new Proxy({}, { get() { throw new Error(SECRET); }, ownKeys() { throw new Error(SECRET); } }),
  ];
  for (const [i, answer] of answers.entries()) {
    for (const [method, handler] of [['elicitation/create', 'elicitation'], ['sampling/createMessage', 'sampling'], ['roots/list', 'roots']]) {
      const server = new ModernServer();
      const c = new WorkboardClient({ mcpUrl: 'https://mcp.example.com/mcp', token: 'tok', fetch: server.fetch, inputHandlers: { [handler]: answer } });
      check(`${handler} answer ${i}`, await attempt(() => c.callTool('ask', { method, params: method === 'elicitation/create' ? FORM : {} })));
      // The instance answers the next call.
      check(`${handler} answer ${i}: next call`, await attempt(() => c.callTool('other', {})));
      c.free();
    }
  }
  assertHealthy('after hostile input handlers');
});

function describe(v) {
  if (typeof v === 'string') return v.length > 40 ? `<string of ${v.length}>` : JSON.stringify(v);
  if (typeof v === 'function') return '<function>';
  if (Array.isArray(v)) return `[${v.length}]`;
  if (v && typeof v === 'object') return v instanceof Date ? '<Date>' : `{${Object.keys(v).join(',')}}`;
  return String(v);
}
