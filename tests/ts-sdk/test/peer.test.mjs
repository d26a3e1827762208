// Self-test of the TypeScript-SDK peer: server.mjs + client-roundtrips.mjs.
// Run with `node --test test/` (or ../test.sh).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SERVER = join(HERE, '..', 'server.mjs');
const ROUNDTRIPS = join(HERE, '..', 'client-roundtrips.mjs');
const TOKEN = 'test-token-123';
const execFileP = promisify(execFile);

/** Spawns server.mjs; resolves once it printed its listening line. */
async function startServer(extraArgs = []) {
  const child = spawn(process.execPath, [SERVER, '--port', '0', ...extraArgs], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  const [first] = await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`server exited early (${code}): ${stderr}`);
    }),
  ]);
  const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+)\/mcp)$/.exec(first);
  assert.ok(m, `unexpected first line: ${first}`);
  assert.notEqual(Number(m[2]), 0);
  const url = m[1];
  return {
    child,
    url,
    base: url.replace(/\/mcp$/, ''),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin.end();
      await exited;
    },
  };
}

function connectClient(url, token) {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : undefined,
  });
  const client = new Client({ name: 'peer-self-test', version: '1.0.0' });
  return { client, transport, connected: client.connect(transport) };
}

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};
function rawPost(url, body, headers = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('server.mjs with --token (SSE responses)', () => {
  let srv;
  before(async () => {
    srv = await startServer(['--token', TOKEN]);
  });
  after(async () => {
    await srv.stop();
  });

  test('SDK client initializes, lists tools, and calls them', async () => {
    const { client, connected } = connectClient(srv.url, TOKEN);
    await connected;
    try {
      assert.equal(client.getServerVersion().name, 'workboard-connect-ts-peer');
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['add', 'echo', 'fail', 'notify']);
      const add = tools.find((t) => t.name === 'add');
      assert.equal(add.inputSchema.type, 'object');
      assert.deepEqual(Object.keys(add.inputSchema.properties).sort(), ['a', 'b']);
      assert.ok(add.outputSchema, 'add declares an outputSchema');

      const sum = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
      assert.deepEqual(sum.structuredContent, { sum: 42 });
      assert.deepEqual(sum.content, [{ type: 'text', text: '42' }]);
      assert.ok(!sum.isError);

      const echo = await client.callTool({ name: 'echo', arguments: { text: 'héllo ✓' } });
      assert.deepEqual(echo.content, [{ type: 'text', text: 'héllo ✓' }]);

      const fail = await client.callTool({ name: 'fail', arguments: { message: 'boom' } });
      assert.equal(fail.isError, true);
      assert.deepEqual(fail.content, [{ type: 'text', text: 'boom' }]);

      // Invalid arguments come back as a tool error, not a transport failure.
      const bad = await client.callTool({ name: 'add', arguments: { a: 'x', b: 1 } });
      assert.equal(bad.isError, true);
    } finally {
      await client.close();
    }
  });

  test('notify tool streams notifications before the result', async () => {
    const { client, connected } = connectClient(srv.url, TOKEN);
    await connected;
    const seen = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      seen.push(n.params.data);
    });
    try {
      const res = await client.callTool({ name: 'notify', arguments: { count: 3 } });
      assert.deepEqual(res.content, [{ type: 'text', text: 'done' }]);
      assert.deepEqual(seen, ['notification 1 of 3', 'notification 2 of 3', 'notification 3 of 3']);
    } finally {
      await client.close();
    }
  });

  test('401 with WWW-Authenticate: Bearer when the token is missing', async () => {
    const res = await rawPost(srv.url, INIT);
    assert.equal(res.status, 401);
    const www = res.headers.get('www-authenticate');
    assert.match(www, /^Bearer /);
    assert.doesNotMatch(www, /error=/, 'no error code without credentials (RFC 6750 §3.1)');
    assert.equal((await res.json()).error.code, -32001);
  });

  test('401 with error="invalid_token" when the token is wrong', async () => {
    for (const auth of [`Bearer ${TOKEN}x`, `Basic ${TOKEN}`, 'Bearer', `Bearer ${TOKEN} extra`]) {
      const res = await rawPost(srv.url, INIT, { authorization: auth });
      assert.equal(res.status, 401, auth);
      assert.match(res.headers.get('www-authenticate'), /^Bearer .*error="invalid_token"/);
      await res.arrayBuffer();
    }
  });

  test('the bearer scheme is case-insensitive', async () => {
    const res = await rawPost(srv.url, INIT, { authorization: `bearer ${TOKEN}` });
    assert.equal(res.status, 200);
    assert.ok(res.headers.get('mcp-session-id'));
    await res.arrayBuffer();
  });

  test('SDK client without the token fails to connect', async () => {
    const { client, connected } = connectClient(srv.url, undefined);
    await assert.rejects(connected, /401|Unauthorized/);
    await client.close();
  });

  test('SSE mode answers initialize with text/event-stream', async () => {
    const res = await rawPost(srv.url, INIT, { authorization: `Bearer ${TOKEN}` });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    const body = await res.text();
    assert.match(body, /^event: message\ndata: \{.*"id":1/m);
  });

  test('protocol errors: bad JSON, missing session, unknown session', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    let res = await rawPost(srv.url, '{not json', auth);
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, -32700);

    res = await rawPost(srv.url, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, auth);
    assert.equal(res.status, 400);
    await res.arrayBuffer();

    res = await rawPost(srv.url, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { ...auth, 'mcp-session-id': 'nope' });
    assert.equal(res.status, 404);
    await res.arrayBuffer();

    res = await fetch(srv.url, { method: 'PUT', headers: auth });
    assert.equal(res.status, 405);
    await res.arrayBuffer();

    res = await fetch(`${srv.base}/elsewhere`, { headers: auth });
    assert.equal(res.status, 404);
    await res.arrayBuffer();
  });

  test('DELETE terminates the session', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const init = await rawPost(srv.url, INIT, auth);
    const sid = init.headers.get('mcp-session-id');
    await init.arrayBuffer();
    const del = await fetch(srv.url, {
      method: 'DELETE',
      headers: { ...auth, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' },
    });
    assert.equal(del.status, 200);
    await del.arrayBuffer();
    const after = await rawPost(srv.url, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, {
      ...auth,
      'mcp-session-id': sid,
      'mcp-protocol-version': '2025-06-18',
    });
    assert.equal(after.status, 404);
    await after.arrayBuffer();
  });

  test('client-roundtrips.mjs: 4 requests, 3 sequential round trips', async () => {
    await (await fetch(`${srv.base}/__stats?reset=1`)).json();
    const { stdout } = await execFileP(process.execPath, [ROUNDTRIPS, srv.url, '--token', TOKEN]);
    const out = JSON.parse(stdout);
    assert.deepEqual(
      out.requests.map((r) => [r.method, r.rpc ?? null, r.status]),
      [
        ['POST', 'initialize', 200],
        ['POST', 'notifications/initialized', 202],
        ['GET', null, 200],
        ['POST', 'tools/list', 200],
      ],
    );
    assert.equal(out.http_requests, 4);
    assert.equal(out.sequential_round_trips, 3);
    assert.equal(typeof out.ms, 'number');
    assert.deepEqual(out.tools.sort(), ['add', 'echo', 'fail', 'notify']);
    // The server counted the same requests.
    const stats = await (await fetch(`${srv.base}/__stats`)).json();
    assert.equal(stats.POST, 3);
    assert.equal(stats.GET, 1);
    assert.equal(stats.DELETE, 0);
  });

  test('client-roundtrips.mjs fails (exit 1) with a wrong token', async () => {
    await assert.rejects(execFileP(process.execPath, [ROUNDTRIPS, srv.url, '--token', 'wrong']), (err) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /401|Unauthorized/);
      return true;
    });
  });

  test('__stats counts requests by method and resets', async () => {
    await (await fetch(`${srv.base}/__stats?reset=1`)).json();
    await (await rawPost(srv.url, INIT)).arrayBuffer(); // 401
    await (await fetch(srv.url, { method: 'DELETE' })).arrayBuffer(); // 401
    const stats = await (await fetch(`${srv.base}/__stats?reset=1`)).json();
    assert.equal(stats.POST, 1);
    assert.equal(stats.DELETE, 1);
    assert.equal(stats.GET, 0);
    assert.equal(stats.unauthorized, 2);
    const zero = await (await fetch(`${srv.base}/__stats`)).json();
    assert.equal(zero.POST + zero.GET + zero.DELETE + zero.unauthorized, 0);
  });
});

describe('server.mjs with --json-response, no token', () => {
  let srv;
  before(async () => {
    srv = await startServer(['--json-response']);
  });
  after(async () => {
    await srv.stop();
  });

  test('initialize is answered with application/json', async () => {
    const res = await rawPost(srv.url, INIT);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    const body = await res.json();
    assert.equal(body.id, 1);
    assert.equal(body.result.serverInfo.name, 'workboard-connect-ts-peer');
  });

  test('SDK client works without a token when none is required', async () => {
    const { client, connected } = connectClient(srv.url, undefined);
    await connected;
    try {
      const sum = await client.callTool({ name: 'add', arguments: { a: 1.5, b: -0.5 } });
      assert.deepEqual(sum.structuredContent, { sum: 1 });
    } finally {
      await client.close();
    }
  });
});

describe('server.mjs with --resource-metadata', () => {
  test('401 points at protected resource metadata that the server serves', async () => {
    const srv = await startServer(['--token', TOKEN, '--resource-metadata']);
    try {
      const res = await rawPost(srv.url, INIT);
      assert.equal(res.status, 401);
      const m = /resource_metadata="([^"]+)"/.exec(res.headers.get('www-authenticate'));
      assert.ok(m);
      assert.equal(m[1], `${srv.base}/.well-known/oauth-protected-resource`);
      const prm = await (await fetch(m[1])).json();
      assert.equal(prm.resource, srv.url);
      assert.deepEqual(prm.bearer_methods_supported, ['header']);
    } finally {
      await srv.stop();
    }
  });
});

describe('server.mjs with --resumable', () => {
  test('SSE responses carry event ids and a priming event for 2025-11-25', async () => {
    const srv = await startServer(['--resumable']);
    try {
      const init = { ...INIT, params: { ...INIT.params, protocolVersion: '2025-11-25' } };
      const res = await rawPost(srv.url, init);
      assert.equal(res.status, 200);
      const body = await res.text();
      const events = body.split('\n\n').filter((e) => e.length > 0);
      assert.match(events[0], /^id: \S+\nretry: 1000\ndata: $/, 'priming event with empty data');
      assert.match(events[1], /^event: message\nid: \S+\ndata: \{.*"id":1/s);
      // The official client copes with the priming event end to end.
      const { client, connected } = connectClient(srv.url, undefined);
      await connected;
      const sum = await client.callTool({ name: 'add', arguments: { a: 3, b: 4 } });
      assert.deepEqual(sum.structuredContent, { sum: 7 });
      await client.close();
    } finally {
      await srv.stop();
    }
  });
});

describe('bundle-size.mjs', () => {
  test('prints minified and compressed sizes per variant', async () => {
    const { stdout } = await execFileP(process.execPath, [join(HERE, '..', 'bundle-size.mjs')]);
    const rows = stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.variant), ['client+streamable-http+auth', 'client+streamable-http']);
    for (const r of rows) {
      assert.ok(r.gzip_bytes > 0 && r.gzip_bytes < r.minified_bytes);
      assert.ok(r.minified_bytes_by_package['@modelcontextprotocol/sdk'] > 0);
    }
  });
});

describe('server.mjs lifecycle', () => {
  test('exits 0 when stdin closes', async () => {
    const srv = await startServer();
    const exited = once(srv.child, 'exit');
    srv.child.stdin.end();
    const [code] = await exited;
    assert.equal(code, 0);
  });

  test('exits 0 on SIGTERM, even with an open GET stream', async () => {
    const srv = await startServer();
    const { client, connected } = connectClient(srv.url, undefined);
    await connected; // the SDK client now holds a standalone GET SSE stream open
    const exited = once(srv.child, 'exit');
    srv.child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0);
    await client.close();
  });

  test('rejects bad arguments with exit status 2', async () => {
    for (const args of [['--port', 'abc'], ['--port', '70000'], ['--bogus'], ['--token', '']]) {
      await assert.rejects(execFileP(process.execPath, [SERVER, ...args]), (err) => {
        assert.equal(err.code, 2, args.join(' '));
        assert.match(err.stderr, /usage:/);
        return true;
      });
    }
  });
});
