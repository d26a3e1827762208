// The client-layer behaviour suite (tests/behaviour/*.json, format in its README) run through
// the package's public API in Node: a scripted server behind the `fetch` option, a recording
// `store`, a simulated clock. The Rust reference runner is
// crates/workboard-client/tests/behaviour/runner.rs. Fails on an operation or field it does not
// know; checks that every file of the directory ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WorkboardClient } from '../node.js';
import { jsonMatches } from './support/replay.mjs';

// WORKBOARD_BEHAVIOUR_DIR: for a copy of these tests run against another build (test.sh).
const DIR = process.env.WORKBOARD_BEHAVIOUR_DIR ??
  fileURLToPath(new URL('../../../../tests/behaviour/', import.meta.url));
const T0 = 1764000000000;

const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const ran = new Set();

function checkKeys(value, known, what) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  for (const k of Object.keys(value)) assert.ok(known.includes(k), `unknown field \`${k}\` in ${what}`);
}

/** The access token (or personal token) of credentials JSON. */
function tokenOf(json) {
  const c = JSON.parse(json);
  return c.access_token ?? c.token ?? '?';
}

/** The scripted server: answers `fetch` from the rules, logs each request, holds replies. */
class Server {
  constructor(rules, log) {
    this.rules = rules.map((rule) => ({ rule, used: 0 }));
    this.log = log;
    this.failures = [];
    this.requests = 0;
    this.countWaiters = [];
    this.held = false;
    this.releases = 0;
    this.gate = [];
    this.fetch = this.fetch.bind(this);
  }

  async fetch(url, init = {}) {
    const body = init.body == null ? '' : new TextDecoder().decode(init.body);
    const auth = (init.headers ?? []).find(([n]) => n.toLowerCase() === 'authorization')?.[1];
    const bearer = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '-';
    let rpc = null;
    try { rpc = JSON.parse(body); } catch { /* not JSON */ }
    const verb = init.method ?? 'GET';
    const name = typeof rpc?.method === 'string' ? rpc.method
      : verb === 'POST' && url.endsWith('/token') ? 'token' : `${verb} ${url}`;
    this.log.push(`http ${name} ${bearer}`);
    const era = (init.headers ?? []).some(([n]) => n.toLowerCase() === 'mcp-method') ? 'modern' : 'legacy';
    const { response, hold } = this.answer(name, bearer, url, rpc, era);
    // Before the request counts as sent (`until_requests`): a release the scenario makes
    // after seeing it is the one a held reply waits for.
    const seen = this.releases;
    this.requests += 1;
    this.countWaiters = this.countWaiters.filter(({ n, resolve }) => (this.requests >= n ? (resolve(), false) : true));
    while (this.held || (hold && this.releases === seen)) {
      await new Promise((resolve) => this.gate.push(resolve));
    }
    return response();
  }

  /** The reply of the first fitting rule with uses left, and whether it is held. */
  answer(name, bearer, url, rpc, era) {
    for (const r of this.rules) {
      const { rule } = r;
      checkKeys(rule, ['match', 'reply', 'times', 'hold'], 'server rule');
      const m = rule.match ?? {};
      checkKeys(m, ['method', 'auth', 'url', 'era', 'input_responses', 'request_state'], 'match');
      const param = (p) => rpc?.params?.[p] ?? null;
      const fits = (m.method === undefined || m.method === name) && (m.auth === undefined || m.auth === bearer) &&
        (m.era === undefined || m.era === era) &&
        (m.url === undefined || m.url === url) &&
        (!('input_responses' in m) || jsonMatches(m.input_responses, param('inputResponses'))) &&
        (!('request_state' in m) || jsonMatches(m.request_state, param('requestState')));
      if (!fits || (rule.times !== undefined && r.used >= rule.times)) continue;
      r.used += 1;
      const reply = rule.reply ?? {};
      checkKeys(reply, ['status', 'headers', 'result', 'error', 'json', 'sse'], 'reply');
      const bodies = ['result', 'error', 'json', 'sse'].filter((k) => k in reply);
      assert.ok(bodies.length <= 1, `a reply with more than one body: ${bodies}`);
      const id = rpc?.id ?? null;
      if ('sse' in reply) {
        // An SSE body: one event per message; `{"result": ...}` is the request's result.
        const sse = reply.sse.map((m) => (Object.keys(m).length === 1 && 'result' in m ? { jsonrpc: '2.0', id, result: m.result } : m))
          .map((m) => `data: ${JSON.stringify(m)}\n\n`).join('');
        const headers = new Headers(reply.headers ?? []);
        headers.append('Content-Type', 'text/event-stream');
        return { response: () => new Response(sse, { status: reply.status ?? 200, headers }), hold: rule.hold === true };
      }
      const json = 'result' in reply ? { jsonrpc: '2.0', id, result: reply.result }
        : 'error' in reply ? { jsonrpc: '2.0', id, error: reply.error } : reply.json;
      const headers = new Headers();
      for (const [n, v] of reply.headers ?? []) headers.append(n, v);
      if (json !== undefined) headers.append('Content-Type', 'application/json');
      const response = () => new Response(json === undefined ? null : JSON.stringify(json),
        { status: reply.status ?? 200, headers });
      return { response, hold: rule.hold === true };
    }
    this.failures.push(`no server rule fits ${name} ${bearer}`);
    return { response: () => { throw new TypeError(`no server rule fits ${name} ${bearer}`); }, hold: false };
  }

  /** Resolves once the transport was asked for `n` requests in all. */
  untilRequests(n) {
    return this.requests >= n ? Promise.resolve() : new Promise((resolve) => this.countWaiters.push({ n, resolve }));
  }

  hold() { this.held = true; }

  release() {
    this.held = false;
    this.releases += 1;
    for (const resolve of this.gate.splice(0)) resolve();
  }
}

/** The recording store, whose saves and removes can be made to fail. */
function recordingStore(log) {
  const values = new Map();
  const store = {
    failing: false,
    load(key) { return values.get(key) ?? null; },
    save(key, value) {
      log.push(key === 'credentials' ? `store ${key} ${tokenOf(value)}` : `store ${key}`);
      if (store.failing) throw new Error('disk full (scripted)');
      values.set(key, value);
    },
    remove(key) {
      log.push(`remove ${key}`);
      if (store.failing) throw new Error('disk full (scripted)');
      values.delete(key);
    },
  };
  return store;
}

function checkExpect(at, expect, got) {
  checkKeys(expect, ['ok', 'error', 'kind'], `${at}: expect`);
  if ('ok' in expect) {
    assert.ok('ok' in got, `${at}: expected ${JSON.stringify(expect.ok)}, got error ${got.error?.code}: ${got.error?.message}`);
    assert.ok(jsonMatches(expect.ok, got.ok), `${at}: expected ${JSON.stringify(expect.ok)}, got ${JSON.stringify(got.ok)}`);
    return;
  }
  assert.ok('error' in got, `${at}: expected ${JSON.stringify(expect)}, got ${JSON.stringify(got.ok)}`);
  const e = got.error;
  assert.equal(e?.name, 'WorkboardError', `${at}: not a WorkboardError: ${e}`);
  assert.ok(jsonMatches(expect.error, e.code), `${at}: expected ${expect.error}, got ${e.code}: ${e.message}`);
  assert.ok(jsonMatches(expect.kind, e.kind), `${at}: expected kind ${expect.kind}, got ${e.kind}`);
}

/** An outcome: `{ok}` or `{error}`, never a rejection. */
const settle = (promise) => promise.then((ok) => ({ ok }), (error) => ({ error }));
const accessToken = (client) => ({ access_token: tokenOf(client.credentialsJson()) });

/** Starts a call; returns its outcome promise and how to cancel it (its AbortSignal). */
function startCall(client, call, args) {
  const ac = new AbortController();
  const signal = { signal: ac.signal };
  const cancel = () => ac.abort();
  const none = () => assert.fail(`the JS API has no AbortSignal for ${call}`);
  switch (call) {
    case 'list_tools':
      return { outcome: settle(client.listTools(signal).then((t) => ({ names: t.map((x) => x.name) }))), cancel };
    case 'call_tool':
      checkKeys(args, ['name', 'arguments'], 'call_tool args');
      return {
        outcome: settle(client.callTool(args.name, args.arguments, signal).then((r) => ({
          text: r.content.filter((b) => b.type === 'text').map((b) => b.text).join('\n'),
          is_error: r.isError,
        }))),
        cancel,
      };
    case 'ping': return { outcome: settle(client.ping(signal).then(() => ({}))), cancel };
    case 'connect': return { outcome: settle(client.connect().then(() => ({}))), cancel: none };
    case 'refresh': return { outcome: settle(client.refreshMcpCredentials().then(() => accessToken(client))), cancel: none };
    case 'close': return { outcome: settle(client.close().then(() => ({}))), cancel: none };
    case 'request':
      checkKeys(args, ['method', 'params'], 'request args');
      return { outcome: settle(client.request(args.method, args.params, signal).then((result) => ({ result }))), cancel };
    default: return assert.fail(`unknown call \`${call}\``);
  }
}

async function run(name, s) {
  checkKeys(s, ['name', 'description', 'client', 'server', 'steps'], 'scenario');
  assert.equal(s.name, name, 'file name and `name` differ');
  const c = s.client ?? {};
  checkKeys(c, ['server_url', 'credentials', 'auth_context', 'allow_client_secret', 'input'], 'client');
  checkKeys(c.input, ['elicitation', 'elicitation_url', 'sampling', 'roots'], 'input');
  // The app's input handlers: each answers with the scenario's answer for its kind.
  const kinds = { elicitation: 'elicitation', elicitation_url: 'elicitationUrl', sampling: 'sampling', roots: 'roots' };
  const inputHandlers = c.input &&
    Object.fromEntries(Object.entries(c.input).map(([k, answer]) => [kinds[k], async () => answer]));
  const log = [];
  const server = new Server(s.server ?? [], log);
  const store = recordingStore(log);
  let now = T0;
  const client = new WorkboardClient({
    mcpUrl: c.server_url,
    credentials: c.credentials ? JSON.stringify(c.credentials) : undefined,
    authContext: c.auth_context ? JSON.stringify(c.auth_context) : undefined,
    dangerouslyAllowClientSecretInBrowser: c.allow_client_secret ?? false,
    fetch: server.fetch,
    store,
    now: () => now,
    sleep: async (ms) => { now += ms; },
    simulatedClock: true,
    inputHandlers,
  });
  const calls = new Map();
  const streams = new Map();
  const signIns = new Map();
  try {
    for (const [i, step] of s.steps.entries()) {
      const op = step.do;
      const at = `${name} step ${i} (${op})`;
      switch (op) {
        case 'call':
          checkKeys(step, ['do', 'id', 'call', 'args'], at);
          calls.set(step.id, startCall(client, step.call, step.args));
          break;
        case 'await': {
          checkKeys(step, ['do', 'id', 'expect'], at);
          const call = calls.get(step.id);
          assert.ok(call, `${at}: no call ${step.id}`);
          calls.delete(step.id);
          checkExpect(at, step.expect, await call.outcome);
          break;
        }
        case 'cancel': {
          checkKeys(step, ['do', 'id'], at);
          const call = calls.get(step.id);
          assert.ok(call, `${at}: no call ${step.id}`);
          call.cancel();
          break;
        }
        case 'notifications':
          checkKeys(step, ['do', 'id'], at);
          streams.set(step.id, client.notifications());
          break;
        case 'next_notification': {
          checkKeys(step, ['do', 'id', 'notification'], at);
          const n = await streams.get(step.id).next();
          const got = n.done ? null : { method: n.value.method, params: n.value.params };
          assert.ok(jsonMatches(step.notification, got), `${at}: expected ${JSON.stringify(step.notification)}, got ${JSON.stringify(got)}`);
          break;
        }
        case 'stop':
          checkKeys(step, ['do', 'id'], at);
          await streams.get(step.id).return();
          break;
        case 'hold': checkKeys(step, ['do'], at); server.hold(); break;
        case 'release': checkKeys(step, ['do'], at); server.release(); break;
        case 'until_requests':
          checkKeys(step, ['do', 'count'], at);
          await server.untilRequests(step.count);
          break;
        case 'store_fails':
          checkKeys(step, ['do', 'value'], at);
          store.failing = step.value;
          break;
        case 'set_credentials': {
          checkKeys(step, ['do', 'credentials', 'expect'], at);
          let got;
          try {
            if (step.credentials === null) client.clearCredentials();
            else client.setCredentialsJson(JSON.stringify(step.credentials));
            got = { ok: {} };
          } catch (error) {
            got = { error };
          }
          checkExpect(at, step.expect, got);
          break;
        }
        case 'start_mcp_sign_in': {
          checkKeys(step, ['do', 'id', 'options', 'expect'], at);
          const o = step.options;
          checkKeys(o, ['redirect_uri', 'client_id', 'www_authenticate'], `${at}: options`);
          const opts = { redirectUri: o.redirect_uri };
          if (o.client_id !== undefined) opts.clientId = o.client_id;
          if (o.www_authenticate !== undefined) opts.wwwAuthenticate = o.www_authenticate;
          const got = await settle(client.startMcpSignIn(opts));
          if ('ok' in got) signIns.set(step.id, got.ok);
          checkExpect(at, step.expect, 'ok' in got ? { ok: { client_id: got.ok.clientId } } : got);
          break;
        }
        case 'complete_mcp_sign_in': {
          checkKeys(step, ['do', 'sign_in', 'pass_pending', 'code', 'expect'], at);
          const start = signIns.get(step.sign_in);
          assert.ok(start, `${at}: no sign-in ${step.sign_in}`);
          const url = new URL(start.url);
          const redirect = `${url.searchParams.get('redirect_uri')}?code=${step.code}&state=${url.searchParams.get('state')}`;
          const pending = step.pass_pending ? start.pendingJson : null;
          const got = await settle(client.completeMcpSignIn(pending, redirect).then(() => accessToken(client)));
          checkExpect(at, step.expect, got);
          break;
        }
        case 'exchange_v1_code': {
          checkKeys(step, ['do', 'code', 'client_hash', 'expect'], at);
          const k = step.code;
          checkKeys(k, ['code', 'redirect_uri', 'client_id', 'token_endpoint', 'received_at_ms'], `${at}: code`);
          const code = {
            code: k.code, redirectUri: k.redirect_uri, clientId: k.client_id, tokenEndpoint: k.token_endpoint,
            scopes: [], receivedAtMs: k.received_at_ms, expiresAtMs: k.received_at_ms + 300_000,
          };
          const got = await settle(client.exchangeV1Code(code, step.client_hash).then(() => accessToken(client)));
          checkExpect(at, step.expect, got);
          break;
        }
        case 'expect_log':
          checkKeys(step, ['do', 'log'], at);
          assert.deepEqual(log, step.log, at);
          break;
        case 'expect_count':
          checkKeys(step, ['do', 'entry', 'count'], at);
          assert.equal(log.filter((x) => x === step.entry).length, step.count, `${at}: ${JSON.stringify(log)}`);
          break;
        case 'expect_before': {
          checkKeys(step, ['do', 'first', 'then'], at);
          const a = log.indexOf(step.first);
          const b = log.lastIndexOf(step.then);
          assert.ok(a >= 0 && b >= 0 && a < b, `${at}: ${JSON.stringify(log)}`);
          break;
        }
        case 'expect_credentials': {
          checkKeys(step, ['do', 'access_token'], at);
          const json = client.credentialsJson();
          assert.equal(json === undefined ? null : tokenOf(json), step.access_token, at);
          break;
        }
        case 'expect_store_error':
          checkKeys(step, ['do', 'code'], at);
          assert.equal(client.storeError()?.code ?? null, step.code, at);
          break;
        default:
          assert.fail(`${at}: unknown operation \`${op}\``);
      }
      assert.deepEqual(server.failures, [], at);
    }
    assert.deepEqual([...calls.keys()], [], `${name}: calls never awaited`);
  } finally {
    server.release();
    client.free();
  }
}

test('the behaviour directory has the scenarios', () => {
  assert.ok(FILES.length >= 9, `found ${FILES.length} in ${DIR}`);
});

for (const file of FILES) {
  const name = file.slice(0, -'.json'.length);
  test(`behaviour ${name}`, async () => {
    await run(name, JSON.parse(readFileSync(DIR + file, 'utf8')));
    ran.add(name);
  });
}

test('every scenario of the directory ran and passed', () => {
  assert.deepEqual([...ran].sort(), FILES.map((f) => f.slice(0, -'.json'.length)));
});
