// Self-test of the TypeScript SDK 2.x peer: server2.mjs (modern-only and dual-era) driven by the
// SDK's own 2.x client and by the 1.x client, plus client-roundtrips2.mjs.
// Run with `node --test test/` (or ../test.sh).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as Client1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as Transport1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SERVER2 = join(HERE, '..', 'server2.mjs');
const ROUNDTRIPS2 = join(HERE, '..', 'client-roundtrips2.mjs');
const TOKEN = 'peer2-self-test';
const execFileP = promisify(execFile);
const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };

async function startServer(extraArgs = []) {
  const child = spawn(process.execPath, [SERVER2, '--port', '0', ...extraArgs], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  const [first] = await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`server2 exited early (${code}): ${stderr}`);
    }),
  ]);
  const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+)\/mcp)$/.exec(first);
  assert.ok(m, `unexpected first line: ${first}`);
  assert.notEqual(Number(m[2]), 0);
  return {
    child,
    url: m[1],
    stats: async (reset = false) => (await fetch(m[1].replace(/\/mcp$/, `/__stats${reset ? '?reset=1' : ''}`))).json(),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin.end();
      await exited;
    },
  };
}

/** A 2.x client: `auto` negotiates the era (server/discover first). */
async function client2(url, { negotiation = 'auto', answer } = {}) {
  const capabilities = answer ? { elicitation: { form: {} } } : {};
  const client = new Client({ name: 'peer2-self-test', version: '1.0.0' }, { capabilities, versionNegotiation: { mode: negotiation } });
  if (answer) client.setRequestHandler('elicitation/create', async (req) => answer(req.params));
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: auth }));
  return client;
}

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
function rawPost(url, body, headers = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...auth.headers, ...headers },
    body: JSON.stringify(body),
  });
}
const firstText = (r) => r.content.find((c) => c.type === 'text')?.text;

describe('server2.mjs --mode modern (legacy: reject)', () => {
  let srv;
  before(async () => {
    srv = await startServer(['--mode', 'modern', '--token', TOKEN]);
  });
  after(async () => {
    await srv.stop();
  });

  test('the 2.x client negotiates 2026-07-28 and uses tools, resources and prompts', async () => {
    const c = await client2(srv.url);
    try {
      assert.equal(c.getProtocolEra(), 'modern');
      assert.equal(c.getNegotiatedProtocolVersion(), '2026-07-28');
      const { tools } = await c.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['add', 'confirm', 'echo', 'fail', 'route']);
      const route = tools.find((t) => t.name === 'route');
      assert.equal(route.inputSchema.properties.region['x-mcp-header'], 'Region');
      const add = await c.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
      assert.deepEqual(add.structuredContent, { sum: 5 });
      assert.equal(firstText(await c.callTool({ name: 'route', arguments: { region: 'eu', query: 'q' } })), 'routed to eu: q');
      const fail = await c.callTool({ name: 'fail', arguments: {} });
      assert.equal(fail.isError, true);
      const { contents } = await c.readResource({ uri: 'note://readme' });
      assert.equal(contents[0].text, 'hello from the TypeScript SDK 2.x peer');
      const { messages } = await c.getPrompt({ name: 'greet', arguments: { name: 'Ann' } });
      assert.equal(messages[0].content.text, 'Say hello to Ann.');
    } finally {
      await c.close();
    }
  });

  test('confirm asks through input_required and finishes with the answer', async () => {
    const asked = [];
    const c = await client2(srv.url, {
      answer: (params) => {
        asked.push(params.message);
        return { action: 'accept', content: { confirm: true } };
      },
    });
    try {
      await srv.stats(true);
      const r = await c.callTool({ name: 'confirm', arguments: { action: 'deploy' } });
      assert.equal(firstText(r), 'confirmed deploy');
      assert.deepEqual(asked, ['Confirm deploy?']);
      assert.equal((await srv.stats()).rpc['tools/call'], 2, 'one call, one retry with the input response');
    } finally {
      await c.close();
    }
  });

  test('a declined confirmation is reported as not confirmed', async () => {
    const c = await client2(srv.url, { answer: () => ({ action: 'decline' }) });
    try {
      assert.equal(firstText(await c.callTool({ name: 'confirm', arguments: { action: 'x' } })), 'not confirmed (decline)');
    } finally {
      await c.close();
    }
  });

  test('initialize is refused: HTTP 400, -32022 listing 2026-07-28', async () => {
    const res = await rawPost(srv.url, {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.error.code, -32022);
    assert.deepEqual(body.error.data.supported, ['2026-07-28']);
  });

  test('a modern tools/call without its Mcp-Param-Region header is refused (-32020)', async () => {
    const call = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'route', arguments: { region: 'eu' }, _meta: ENVELOPE } };
    const std = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'route' };
    const missing = await rawPost(srv.url, call, std);
    assert.equal(missing.status, 400);
    assert.equal((await missing.json()).error.code, -32020);
    const ok = await rawPost(srv.url, call, { ...std, 'mcp-param-region': 'eu' });
    assert.equal(ok.status, 200);
  });

  test('401 with WWW-Authenticate: Bearer without the token; __stats counts it', async () => {
    await srv.stats(true);
    const res = await fetch(srv.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate'), /^Bearer realm="mcp"$/);
    const stats = await srv.stats();
    assert.equal(stats.unauthorized, 1);
    assert.equal(stats.POST, 1);
  });

  test('client-roundtrips2.mjs: server/discover + tools/list = 2 requests, 2 round trips', async () => {
    const { stdout } = await execFileP(process.execPath, [ROUNDTRIPS2, srv.url, '--token', TOKEN], { timeout: 20000 });
    const r = JSON.parse(stdout);
    assert.equal(r.era, 'modern');
    assert.equal(r.protocol_version, '2026-07-28');
    assert.deepEqual(r.requests.map((q) => q.rpc), ['server/discover', 'tools/list']);
    assert.equal(r.http_requests, 2);
    assert.equal(r.sequential_round_trips, 2);
    assert.ok(r.requests.every((q) => q.version === '2026-07-28'));
  });

  test('client-roundtrips2.mjs --cached-era: tools/list alone, 1 request', async () => {
    const { stdout } = await execFileP(process.execPath, [ROUNDTRIPS2, srv.url, '--token', TOKEN, '--cached-era'], { timeout: 20000 });
    const r = JSON.parse(stdout);
    assert.deepEqual(r.requests.map((q) => q.rpc), ['tools/list']);
    assert.equal(r.sequential_round_trips, 1);
  });

  test('client-roundtrips2.mjs --negotiation legacy fails (exit 1) against modern-only', async () => {
    await assert.rejects(execFileP(process.execPath, [ROUNDTRIPS2, srv.url, '--token', TOKEN, '--negotiation', 'legacy'], { timeout: 20000 }), (err) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /Unsupported protocol version/);
      return true;
    });
  });
});

describe('server2.mjs --mode dual (default)', () => {
  let srv;
  before(async () => {
    srv = await startServer(['--token', TOKEN]);
  });
  after(async () => {
    await srv.stop();
  });

  test('the 2.x client with auto negotiation lands on the modern era', async () => {
    const c = await client2(srv.url);
    try {
      assert.equal(c.getProtocolEra(), 'modern');
      assert.deepEqual((await c.callTool({ name: 'add', arguments: { a: 1, b: 2 } })).structuredContent, { sum: 3 });
    } finally {
      await c.close();
    }
  });

  test('a 2025-era client (SDK 1.x) is served statelessly: initialize, tools, calls', async () => {
    await srv.stats(true);
    const c = new Client1({ name: 'peer2-legacy', version: '1.0.0' });
    const transport = new Transport1(new URL(srv.url), { requestInit: auth });
    await c.connect(transport);
    try {
      assert.equal(transport.protocolVersion, '2025-11-25');
      assert.equal((await c.listTools()).tools.length, 5);
      assert.deepEqual((await c.callTool({ name: 'add', arguments: { a: 4, b: 5 } })).structuredContent, { sum: 9 });
      assert.equal(firstText(await c.callTool({ name: 'route', arguments: { region: 'us' } })), 'routed to us');
      const stats = await srv.stats();
      assert.equal(stats.rpc.initialize, 1);
      assert.equal(stats.versions['2026-07-28'], undefined);
    } finally {
      await c.close();
    }
  });

  test('client-roundtrips2.mjs --negotiation legacy: initialize first', async () => {
    const { stdout } = await execFileP(process.execPath, [ROUNDTRIPS2, srv.url, '--token', TOKEN, '--negotiation', 'legacy'], { timeout: 20000 });
    const r = JSON.parse(stdout);
    assert.equal(r.era, 'legacy');
    assert.equal(r.requests[0].rpc, 'initialize');
    assert.equal(r.protocol_version, '2025-11-25');
  });
});

describe('server2.mjs --mode modern --json-response', () => {
  test('stdout stays the listening line alone; answers are application/json', async () => {
    const srv = await startServer(['--mode', 'modern', '--json-response']);
    let extra = '';
    srv.child.stdout.on('data', (d) => (extra += d));
    try {
      const res = await rawPost(
        srv.url,
        { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: ENVELOPE } },
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
      );
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^application\/json/);
      assert.equal((await res.json()).result.tools.length, 5);
      const c = await client2(srv.url);
      await assert.rejects(c.callTool({ name: 'confirm', arguments: { action: 'x' } }), /capabilit/);
      await c.close();
    } finally {
      await srv.stop();
    }
    assert.equal(extra, '', 'nothing after the listening line on stdout');
  });
});

describe('server2.mjs lifecycle', () => {
  test('exits 0 when stdin closes', async () => {
    const srv = await startServer(['--mode', 'modern']);
    const exited = once(srv.child, 'exit');
    srv.child.stdin.end();
    const [code] = await exited;
    assert.equal(code, 0);
  });

  test('exits 0 on SIGTERM', async () => {
    const srv = await startServer();
    const exited = once(srv.child, 'exit');
    srv.child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0);
  });

  test('rejects bad arguments with exit status 2', async () => {
    for (const bad of [['--mode', 'both'], ['--port', '70000'], ['--token', ''], ['--nope']]) {
      await assert.rejects(execFileP(process.execPath, [SERVER2, ...bad], { timeout: 10000 }), (err) => {
        assert.equal(err.code, 2, `args ${bad.join(' ')}`);
        assert.match(err.stderr, /usage: node server2\.mjs/);
        return true;
      });
    }
  });
});
