// The package API in Node: typed errors, bad input never aborts the instance, the client
// secret refusal, credential listeners, the fetch transport's error mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { WorkboardClient, version } from '../node.js';
import { loadVectors, replay } from './support/replay.mjs';

// The `ErrorKind` union the package's .d.ts declares: every thrown `kind` is one of them.
const DTS = readFileSync(new URL('../pkg/workboard_wasm.d.ts', import.meta.url), 'utf8');
const KINDS = [...(DTS.match(/export type ErrorKind =([^;]*);/)?.[1] ?? '').matchAll(/"([a-z_]+)"/g)].map((m) => m[1]);

function assertWorkboardError(e, code, kind) {
  assert.ok(e instanceof Error, `not an Error: ${e}`);
  assert.equal(e.name, 'WorkboardError');
  assert.equal(e.code, code, `code ${e.code}: ${e.message}`);
  assert.ok(KINDS.includes(e.kind), `kind ${e.kind} of ${e.code}`);
  if (kind !== undefined) assert.equal(e.kind, kind, `kind of ${e.code}`);
  assert.equal(typeof e.message, 'string');
  assert.ok(e.hint === null || typeof e.hint === 'string');
  return true;
}

test('the .d.ts declares the ErrorKind union, one snake_case name per kind', () => {
  assert.equal(KINDS.length, 15, DTS);
  assert.equal(new Set(KINDS).size, KINDS.length);
  assert.match(DTS, /interface WorkboardError extends Error \{[^}]*\bkind: ErrorKind;/);
});

test('version is the crate version', () => {
  assert.match(version(), /^\d+\.\d+\.\d+/);
});

test('bad constructor input throws typed errors, and the instance keeps working', () => {
  assert.throws(() => new WorkboardClient({ environment: 'ftp://evil.example' }), (e) => assertWorkboardError(e, 'insecure_url'));
  assert.throws(() => new WorkboardClient({ environment: 'http://example.com' }), (e) => assertWorkboardError(e, 'insecure_url'));
  assert.throws(() => new WorkboardClient({ environment: 'not a url' }), (e) => assertWorkboardError(e, 'invalid_url', 'invalid_input'));
  assert.throws(() => new WorkboardClient({ token: 5 }), (e) => assertWorkboardError(e, 'invalid_input', 'invalid_input'));
  assert.throws(() => new WorkboardClient({ token: '   ' }), (e) => assertWorkboardError(e, 'invalid_input'));
  assert.throws(() => new WorkboardClient({ credentials: '{"kind":' }), (e) => assertWorkboardError(e, 'invalid_input'));
  assert.throws(() => new WorkboardClient({ entropySeedHex: 'zz' }), (e) => assertWorkboardError(e, 'invalid_input'));
  assert.throws(() => new WorkboardClient({ fetch: 'nope' }), (e) => assertWorkboardError(e, 'invalid_input'));
  assert.throws(() => new WorkboardClient('a string'), (e) => assertWorkboardError(e, 'invalid_input'));
  // After all of that the module still works.
  const c = new WorkboardClient({ environment: 'eu', token: 'Bearer  tok_1' });
  assert.equal(c.mcpUrl, 'https://www.myworkboard.eu/wb/mcp');
  assert.equal(c.credentialsSummary().kind, 'personal');
  assert.equal(JSON.parse(c.credentialsJson()).token, 'tok_1');
});

test('the hint of a typed error comes from the troubleshooting table', () => {
  try {
    new WorkboardClient({ environment: 'http://example.com' });
    assert.fail('no error');
  } catch (e) {
    assert.match(e.hint, /https/);
  }
});

test('a client secret is refused in the browser API without the loud opt-in', async () => {
  const c = new WorkboardClient({ fetch: async () => { throw new Error('must not be called'); } });
  await assert.rejects(
    c.startMcpSignIn({ serverUrl: 'https://mcp.example.org/mcp', redirectUri: 'https://app.example/cb', clientId: 'x', clientSecret: 's3cret' }),
    (e) => assertWorkboardError(e, 'secret_in_browser', 'unauthorized') && !e.message.includes('s3cret') && /server/.test(e.hint),
  );
});

test('bad sign-in input is a typed error, not a crash', async () => {
  const c = new WorkboardClient({ fetch: async () => { throw new Error('must not be called'); } });
  await assert.rejects(c.startMcpSignIn({}), (e) => assertWorkboardError(e, 'invalid_input'));
  await assert.rejects(c.startMcpSignIn(null), (e) => assertWorkboardError(e, 'invalid_input'));
  await assert.rejects(c.startMcpSignIn({ serverUrl: 'http://evil.example/mcp', redirectUri: 'https://a/cb' }), (e) => assertWorkboardError(e, 'insecure_url'));
  await assert.rejects(c.completeMcpSignIn('{not json', 'https://a/cb?code=1&state=2'), (e) => assertWorkboardError(e, 'invalid_input'));
  await assert.rejects(c.completeMcpSignIn(null, 'https://a/cb?code=1&state=2'), (e) => assertWorkboardError(e, 'wrong_state', 'wrong_state'));
  assert.throws(() => c.stepUpMcpSignIn('write'), (e) => assertWorkboardError(e, 'wrong_state'));
  // Nothing to refresh (no credentials at all): sign in first.
  await assert.rejects(c.refreshMcpCredentials(), (e) => assertWorkboardError(e, 'not_signed_in', 'needs_sign_in'));
  assert.throws(() => c.setToken(''), (e) => assertWorkboardError(e, 'invalid_input'));
  assert.throws(() => c.setCredentialsJson('[]'), (e) => assertWorkboardError(e, 'invalid_input'));
});

test('credential listeners hear set, clear; a throwing listener does not break the client', () => {
  const c = new WorkboardClient();
  const seen = [];
  const listener = (j) => seen.push(j);
  c.onCredentialsChanged(() => { throw new Error('listener bug'); });
  c.onCredentialsChanged(listener);
  c.setToken('abc');
  c.clearCredentials();
  c.offCredentialsChanged(listener);
  c.setToken('def');
  assert.equal(seen.length, 2);
  // Bound to the client's server (the client layer's rule for credentials set on a client).
  assert.deepEqual(JSON.parse(seen[0]), { kind: 'personal', token: 'abc', bound_to: 'https://www.myworkboard.com/wb/mcp' });
  assert.equal(seen[1], null);
  assert.equal(c.credentialsSummary().kind, 'personal');
});

test('fetch failures map to transport errors (connect, timeout) with no request content', async () => {
  const refused = new WorkboardClient({
    fetch: async () => { throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') }); },
  });
  await assert.rejects(
    refused.startMcpSignIn({ serverUrl: 'https://mcp.example.org/mcp', redirectUri: 'https://app.example/cb' }),
    (e) => assertWorkboardError(e, 'transport', 'network') && /ECONNREFUSED/.test(e.message),
  );
  // AbortSignal.timeout's timer does not keep Node alive (a real socket would): hold the loop.
  const keepAlive = setInterval(() => {}, 1000);
  const slow = new WorkboardClient({ timeoutMs: 50, fetch: (url, init) => new Promise((_, reject) => {
    init.signal.addEventListener('abort', () => reject(init.signal.reason));
  }) });
  await assert.rejects(
    slow.startMcpSignIn({ serverUrl: 'https://mcp.example.org/mcp', redirectUri: 'https://app.example/cb' }),
    (e) => assertWorkboardError(e, 'transport') && /timed out/.test(e.message),
  ).finally(() => clearInterval(keepAlive));
});

test('a fetch that returns garbage or throws a non-Error is a transport error, not a crash', async () => {
  for (const fetch of [async () => ({ status: 200 }), async () => { throw 'string thrown'; }, () => 42]) {
    const c = new WorkboardClient({ token: 't', fetch });
    await assert.rejects(c.listTools(), (e) => assertWorkboardError(e, 'transport'));
    await assert.rejects(c.callTool('x', {}), (e) => assertWorkboardError(e, 'transport'));
  }
});

test('an AbortSignal cancels a call: code cancelled, notifications/cancelled sent', async () => {
  const methods = [];
  const fetch = async (url, init) => {
    const body = JSON.parse(new TextDecoder().decode(init.body));
    methods.push(body.method);
    if (legacyRefusal(init)) return legacyRefusal(init);
    if (body.method === 'initialize') {
      return new Response(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: {
        protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'mock', version: '1' } } }),
      { headers: { 'Content-Type': 'application/json', 'Mcp-Session-Id': 's1' } });
    }
    if (body.method.startsWith('notifications/')) return new Response(null, { status: 202 });
    return new Promise(() => {}); // tools/call: never answered
  };
  const c = new WorkboardClient({ token: 't', fetch });
  const ac = new AbortController();
  const call = c.callTool('slow_tool', {}, { signal: ac.signal });
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(call, (e) => assertWorkboardError(e, 'cancelled', 'cancelled'));
  assert.ok(methods.includes('notifications/cancelled'), methods.join(','));
  await assert.rejects(c.listTools('not options'), (e) => assertWorkboardError(e, 'invalid_input'));
  // Already aborted: rejected without waiting.
  await assert.rejects(c.listTools({ signal: AbortSignal.abort() }), (e) => assertWorkboardError(e, 'cancelled'));
});

test('the replayer notices a request that differs by one header', async () => {
  const [{ file, vector }] = loadVectors().filter((x) => x.file.startsWith('mcpauth_refresh'));
  const tampered = structuredClone(vector);
  const ex = tampered.steps.find((s) => s.exchanges?.length).exchanges[0];
  ex.request.headers.push(['X-Extra', '1']);
  const failures = await replay(file, tampered);
  assert.ok(failures.some((f) => f.includes('request mismatch')), failures.join('\n'));
});

test('finished and abandoned calls leave no timer behind (a Node process exits at once)', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const fetch = async (url, init) => {
    const body = JSON.parse(new TextDecoder().decode(init.body));
    if (body.method === 'initialize') {
      return new Response(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: {
        protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'mock', version: '1' } } }),
      { headers: { 'Content-Type': 'application/json', 'Mcp-Session-Id': 's1' } });
    }
    if (body.method.startsWith('notifications/')) return new Response(null, { status: 202 });
    if (body.method === 'tools/list') {
      return new Response(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: { tools: [] } }),
        { headers: { 'Content-Type': 'application/json' } });
    }
    throw new TypeError('fetch failed');
  };
  const c = new WorkboardClient({ token: 't', fetch });
  // Calls in flight together (each with its own whole-call deadline), some failing.
  const outcomes = await Promise.allSettled([c.listTools(), c.callTool('a', {}), c.listTools(), c.callTool('b', {})]);
  assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected']);
  assert.equal(timers(), before, 'a timer outlived the calls');
  c.free();
});

// The fetch transport reads at most the core's MAX_BODY_BYTES (16 MiB, as the native
// transport): a larger body is refused at once when Content-Length says so, otherwise read
// chunk by chunk and cancelled as soon as it goes over. Never read to its end.
const MiB = 1024 * 1024;

// A body of `total` bytes in 1 MiB chunks, pulled only when read; records what was pulled,
// whether it ended and whether it was cancelled.
function countedBody(total) {
  const seen = { pulled: 0, ended: false, cancelled: false };
  const stream = new ReadableStream({
    pull(controller) {
      if (seen.pulled >= total) {
        seen.ended = true;
        controller.close();
        return;
      }
      const n = Math.min(MiB, total - seen.pulled);
      seen.pulled += n;
      controller.enqueue(new Uint8Array(n).fill(0x20));
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, seen };
}

test('a body over 16 MiB is response_too_large and its stream is cancelled, not read to the end', async () => {
  const cases = [
    { label: '17 MiB with its Content-Length', total: 17 * MiB, length: String(17 * MiB) },
    { label: '17 MiB without Content-Length', total: 17 * MiB, length: null },
    { label: '64 MiB with a lying Content-Length', total: 64 * MiB, length: '100' },
  ];
  for (const { label, total, length } of cases) {
    const { stream, seen } = countedBody(total);
    let requests = 0;
    const fetch = async () => {
      requests += 1;
      const headers = { 'Content-Type': 'application/json' };
      if (length !== null) headers['Content-Length'] = length;
      return new Response(stream, { headers });
    };
    const c = new WorkboardClient({ token: 't', fetch });
    await assert.rejects(c.listTools(), (e) => assertWorkboardError(e, 'response_too_large'), label);
    assert.equal(requests, 1, `${label}: not replayed`);
    assert.ok(seen.cancelled, `${label}: the stream was cancelled`);
    assert.ok(!seen.ended, `${label}: the stream was not read to its end`);
    assert.ok(seen.pulled <= 17 * MiB, `${label}: ${seen.pulled} bytes pulled`);
    if (length === String(total)) assert.equal(seen.pulled, 0, `${label}: refused before reading`);
  }
});

// An MCP server answering initialize, notifications and ping; `hang` methods never answer.
/** What a legacy (2025-11-25) server answers the client's modern (2026-07-28) probe: 400
 * without a modern error body, so the client initializes. `undefined` for other requests. */
function legacyRefusal(init) {
  if (!(init.headers ?? []).some(([n]) => n.toLowerCase() === 'mcp-method')) return undefined;
  return new Response(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: No valid session ID provided' } }),
    { status: 400, headers: { 'Content-Type': 'application/json' } });
}

/** A legacy MCP server: refuses the modern probe, then answers in a session. */
function mockMcp(methods, hang = []) {
  return async (url, init) => {
    const body = JSON.parse(new TextDecoder().decode(init.body ?? new Uint8Array()) || '{}');
    methods.push(body.method ?? `${init.method} ${url}`);
    if (legacyRefusal(init)) return legacyRefusal(init);
    if (body.method === 'initialize') {
      return new Response(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: {
        protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'mock', version: '7' } } }),
      { headers: { 'Content-Type': 'application/json', 'Mcp-Session-Id': 's1' } });
    }
    if (!body.method || body.method.startsWith('notifications/')) return new Response(null, { status: 202 });
    if (hang.includes(body.method)) return new Promise(() => {});
    return new Response(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: {} }), { headers: { 'Content-Type': 'application/json' } });
  };
}

test('a store keeps credentials and the session: a new client restores both (no second initialize)', async () => {
  const saved = new Map();
  const store = { load: (k) => saved.get(k), save: (k, v) => saved.set(k, v), remove: (k) => saved.delete(k) };
  const methods = [];
  const a = new WorkboardClient({ store, fetch: mockMcp(methods) });
  a.setToken('tok_store');
  assert.equal(JSON.parse(saved.get('credentials')).token, 'tok_store');
  assert.deepEqual(await a.connect(), { name: 'mock', version: '7', protocolVersion: '2025-11-25' });
  assert.ok(saved.has('session'));
  const b = new WorkboardClient({ store, fetch: mockMcp(methods) });
  assert.equal(JSON.parse(b.credentialsJson()).token, 'tok_store');
  // A restored session: what the server said when it was initialized, without initialize.
  assert.deepEqual(await b.connect(), { name: 'mock', version: '7', protocolVersion: '2025-11-25' });
  // The first client's modern probe (ping is server/discover in the modern era) is refused;
  // the restored session is legacy already, so the second client sends its ping at once.
  assert.deepEqual(methods, ['server/discover', 'initialize', 'notifications/initialized', 'ping', 'ping']);
  assert.equal(b.storeError(), undefined);
  b.clearCredentials();
  assert.equal(saved.has('credentials'), false);
  await b.close();
  assert.equal(saved.has('session'), false);
  assert.throws(() => new WorkboardClient({ store: { load() { throw new Error('locked'); }, save() {}, remove() {} } }),
    (e) => assertWorkboardError(e, 'credential_store_failed', 'storage'));
  assert.throws(() => new WorkboardClient({ store: { load() {} } }), (e) => assertWorkboardError(e, 'invalid_input'));
});

test('cancelAll cancels every call in progress; close is final', async () => {
  const methods = [];
  const c = new WorkboardClient({ token: 't', fetch: mockMcp(methods, ['tools/call', 'tools/list']) });
  await c.ping();
  const calls = [c.callTool('slow', {}), c.listTools(), c.callTool('slow', { n: 2 })];
  while (methods.filter((m) => m === 'tools/call' || m === 'tools/list').length < 3) await new Promise((r) => setImmediate(r));
  c.cancelAll();
  for (const call of calls) await assert.rejects(call, (e) => assertWorkboardError(e, 'cancelled', 'cancelled'));
  await c.ping();
  await c.close();
  await assert.rejects(c.ping(), (e) => assertWorkboardError(e, 'client_stopped', 'stopped'));
  await assert.rejects(c.connect(), (e) => assertWorkboardError(e, 'client_stopped', 'stopped'));
  // Closing ends the session, not the credentials: they can still be replaced or cleared.
  c.setToken('t2');
  c.clearCredentials();
  assert.equal(c.credentialsJson(), undefined);
  await c.close();
  assert.equal(methods.filter((m) => m.startsWith('DELETE')).length, 1, methods.join(','));
});
