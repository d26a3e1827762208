// Smoke tests of the real flows against workboard-sim on 127.0.0.1, through the package.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WorkboardClient, startV1SignIn, handleV1Redirect } from '../node.js';
import { startSim, consent } from './support/sim.mjs';

const REDIRECT = 'http://127.0.0.1:8765/callback'; // the simulator's demo client
const TOKEN = 'wbp_wasm_test_token';
let sim;
before(async () => {
  sim = await startSim(['--dcr', 'on', '--client', 'web-public::http://127.0.0.1:9/cb',
    '--seed-personal-token', TOKEN, '--seed-personal-token', 'wbp_no_access:no_access']);
});
after(async () => { await sim?.stop(); });

test('WorkBoard v1: start in the "browser", exchange on the "server", revoke', async () => {
  const { url, pendingJson } = startV1SignIn({ environment: sim.url, clientId: 'demo-client', redirectUri: REDIRECT, scopes: ['all'] });
  assert.ok(url.startsWith(`${sim.url}/wb/oauth/authorize?client_id=demo-client&`), url);
  assert.ok(!pendingJson.includes('demo-hash'));
  const back = await consent(url);
  const code = handleV1Redirect(pendingJson, back);
  assert.equal(code.redirectUri, REDIRECT);
  assert.ok(code.expiresAtMs - code.receivedAtMs === 5 * 60 * 1000);
  // The pending authorization is single use.
  assert.throws(() => handleV1Redirect(JSON.stringify({ ...JSON.parse(pendingJson), completed: true }), back),
    (e) => e.code === 'authorization_reused');

  // In a browser build the hash is refused…
  const browser = new WorkboardClient({ environment: sim.url });
  await assert.rejects(browser.exchangeV1Code(code, 'demo-hash'), (e) => e.code === 'secret_in_browser');
  // …and server-side JavaScript opts in explicitly.
  const server = new WorkboardClient({ environment: sim.url, dangerouslyAllowClientSecretInBrowser: true });
  const changes = [];
  server.onCredentialsChanged((j) => changes.push(j));
  const summary = await server.exchangeV1Code(code, 'demo-hash');
  assert.equal(summary.kind, 'oauth');
  assert.equal(summary.hasRefreshToken, false);
  assert.equal(changes.length, 1);
  assert.equal(JSON.parse(changes[0]).dialect, 'workboard_v1');
  // The same code cannot be exchanged twice.
  await assert.rejects(server.exchangeV1Code(code, 'demo-hash'), (e) => e.name === 'WorkboardError' && e.code === 'token_endpoint_error' &&
    e.kind === 'sign_in_failed');

  assert.equal(await server.revokeV1Credentials(), 'revoked');
  assert.equal(server.credentialsJson(), undefined);
  assert.equal(changes.at(-1), null);
});

test('WorkBoard v1: a denied consent is a typed authorization_denied error with a hint', async () => {
  const { url, pendingJson } = startV1SignIn({ environment: sim.url, clientId: 'demo-client', redirectUri: REDIRECT });
  const back = await consent(url, 'deny');
  assert.throws(() => handleV1Redirect(pendingJson, back), (e) => e.code === 'authorization_denied' && /declined/.test(e.hint));
});

test('WorkBoard v1: a forged redirect (wrong state) is refused and leaves nothing usable', async () => {
  const { pendingJson } = startV1SignIn({ environment: sim.url, clientId: 'demo-client', redirectUri: REDIRECT });
  assert.throws(() => handleV1Redirect(pendingJson, `${REDIRECT}?code=stolen&state=forged`), (e) => e.code === 'state_mismatch');
  assert.throws(() => handleV1Redirect(pendingJson, 'garbage'), (e) => e.name === 'WorkboardError');
  assert.throws(() => startV1SignIn({ environment: sim.url, clientId: 'demo-client', redirectUri: REDIRECT, clientHash: 'demo-hash' }),
    (e) => e.code === 'secret_in_browser');
});

test('OAuth 2.1 for MCP: public client with PKCE (pre-registered), then the tokens refresh', async () => {
  const c = new WorkboardClient({ environment: sim.url });
  const start = await c.startMcpSignIn({ redirectUri: 'http://127.0.0.1:9/cb', clientId: 'web-public' });
  assert.equal(start.tokenEndpointAuth, 'none');
  assert.match(start.url, /code_challenge_method=S256/);
  const back = await consent(start.url);
  // A fresh client restores from pendingJson, as a page does after the redirect.
  const page = new WorkboardClient({ environment: sim.url });
  const summary = await page.completeMcpSignIn(start.pendingJson, back);
  assert.equal(summary.kind, 'oauth');
  const before = JSON.parse(page.credentialsJson());
  assert.ok(page.authContextJson());
  assert.equal(summary.hasRefreshToken, true);
  const refreshed = await page.refreshMcpCredentials();
  assert.equal(refreshed.kind, 'oauth');
  assert.notEqual(JSON.parse(page.credentialsJson()).access_token, before.access_token);
});

test('OAuth 2.1 for MCP: dynamic client registration when no client id is given', async () => {
  const c = new WorkboardClient({ environment: sim.url });
  const start = await c.startMcpSignIn({ redirectUri: 'http://127.0.0.1:9/cb' });
  assert.equal(start.tokenEndpointAuth, 'none');
  const back = await consent(start.url);
  const summary = await c.completeMcpSignIn(null, back);
  assert.equal(summary.kind, 'oauth');
});

test('personal token: list tools, call a tool, concurrent calls share one session', async () => {
  const c = new WorkboardClient({ environment: sim.url, token: TOKEN });
  const tools = await c.listTools();
  const names = tools.map((t) => t.name);
  assert.ok(names.includes('get_current_user'), names.join(','));
  assert.equal(typeof tools[0].inputSchema, 'object');
  const [me, again, teams] = await Promise.all([
    c.callTool('get_current_user', {}),
    c.callTool('get_current_user'),
    c.callTool('list_teams', {}),
  ]);
  assert.equal(me.isError, false);
  assert.equal(me.content[0].type, 'text');
  assert.match(me.content[0].text, /ada@example\.com/);
  assert.deepEqual(again.content, me.content);
  assert.equal(teams.isError, false);
  await c.ping();
  await c.close();
  // close is final: later calls are refused (kind stopped), closing again does nothing.
  await assert.rejects(c.listTools(), (e) => e.code === 'client_stopped' && e.kind === 'stopped');
  await c.close();
});

test('personal token: a wrong token is a typed unauthorized error with the 401 hint; bad arguments are typed', async () => {
  const c = new WorkboardClient({ environment: sim.url, token: 'wbp_wrong' });
  await assert.rejects(c.listTools(), (e) => e.name === 'WorkboardError' && e.code === 'unauthorized' &&
    e.kind === 'needs_sign_in' && /Regenerate your personal token/.test(e.hint) && !e.message.includes('wbp_wrong'));
  const ok = new WorkboardClient({ environment: sim.url, token: TOKEN });
  await assert.rejects(ok.callTool('', {}), (e) => e.code === 'invalid_input' && e.kind === 'invalid_input');
  await assert.rejects(ok.callTool('get_current_user', [1, 2]), (e) => e.code === 'invalid_input');
  await assert.rejects(ok.callTool('get_current_user', { n: 10n }), (e) => e.code === 'invalid_input');
  await assert.rejects(ok.callTool('no_such_tool', {}), (e) => e.name === 'WorkboardError');
  // The instance still works after all of that.
  assert.ok((await ok.listTools()).length > 0);
});

test('personal token: a role without access lists no tools', async () => {
  const c = new WorkboardClient({ environment: sim.url, token: 'wbp_no_access' });
  assert.deepEqual(await c.listTools(), []);
});

test('OAuth 2.1 sign-in, then tools are listed with the issued token', async () => {
  const c = new WorkboardClient({ environment: sim.url });
  await assert.rejects(c.listTools(), (e) => e.code === 'not_signed_in' && e.kind === 'needs_sign_in');
  const start = await c.startMcpSignIn({ redirectUri: 'http://127.0.0.1:9/cb', clientId: 'web-public' });
  await c.completeMcpSignIn(null, await consent(start.url));
  assert.ok((await c.listTools()).length > 0);
});

test('WorkBoard v1 credentials from the server exchange list tools in the "browser"', async () => {
  const { url, pendingJson } = startV1SignIn({ environment: sim.url, clientId: 'demo-client', redirectUri: REDIRECT });
  const code = handleV1Redirect(pendingJson, await consent(url));
  const server = new WorkboardClient({ environment: sim.url, dangerouslyAllowClientSecretInBrowser: true });
  await server.exchangeV1Code(code, 'demo-hash');
  const browser = new WorkboardClient({ environment: sim.url, credentials: server.credentialsJson() });
  assert.ok((await browser.listTools()).length > 0);
});

async function stats() {
  return (await (await fetch(`${sim.url}/__sim/stats`)).json()).counters;
}
async function control(path, body) {
  const r = await fetch(`${sim.url}/__sim/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(r.status, 200, await r.text());
}

test('concurrent first calls send a single initialize', async () => {
  // A legacy-only server for this test (the session's initialize); the modern era is covered
  // byte for byte by the vectors.
  await control('config', { era: 'legacy' });
  try {
    const before = (await stats())['mcp:initialize'] ?? 0;
    const c = new WorkboardClient({ environment: sim.url, token: TOKEN });
    const results = await Promise.all([c.listTools(), c.callTool('get_current_user', {}), c.listTools()]);
    assert.equal(results.length, 3);
    assert.equal((await stats())['mcp:initialize'], before + 1);
  } finally {
    await control('config', { era: 'dual' });
  }
});

test('SSE responses from the server are read like JSON ones', async () => {
  await control('config', { response_mode: 'sse' });
  try {
    const c = new WorkboardClient({ environment: sim.url, token: TOKEN });
    const r = await c.callTool('get_current_user', {});
    assert.match(r.content[0].text, /ada@example\.com/);
  } finally {
    await control('config', { response_mode: 'json' });
  }
});

test('an expired OAuth 2.1 access token is refreshed once and the listener persists the new one', async () => {
  const c = new WorkboardClient({ environment: sim.url });
  const start = await c.startMcpSignIn({ redirectUri: 'http://127.0.0.1:9/cb', clientId: 'web-public' });
  await c.completeMcpSignIn(null, await consent(start.url));
  await c.listTools();
  const saved = [];
  c.onCredentialsChanged((j) => saved.push(j));
  const before = (await stats())['token:refresh_token'] ?? 0;
  await control('clock', { advance_secs: 3 * 24 * 3600 });
  const [a, b] = await Promise.all([c.listTools(), c.callTool('get_current_user', {})]);
  assert.ok(a.length > 0);
  assert.equal(b.isError, false);
  assert.equal((await stats())['token:refresh_token'], before + 1);
  assert.equal(saved.length, 1);
  assert.equal(saved[0], c.credentialsJson());
});

test('no secret (code, client hash, state, token) appears in errors or summaries', async () => {
  const { url, pendingJson } = startV1SignIn({ environment: sim.url, clientId: 'demo-client', redirectUri: REDIRECT });
  const state = new URL(url).searchParams.get('state');
  const back = await consent(url);
  const code = handleV1Redirect(pendingJson, back);
  const server = new WorkboardClient({ environment: sim.url, dangerouslyAllowClientSecretInBrowser: true });
  const secrets = [code.code, 'demo-hash', state];
  const clean = (e) => {
    const text = `${e.message} ${e.hint ?? ''} ${e.stack ?? ''}`;
    for (const s of secrets) assert.ok(!text.includes(s), `secret in error: ${text}`);
    return true;
  };
  await assert.rejects(server.exchangeV1Code(code, 'wrong-hash'), (e) => e.code === 'token_endpoint_error' && clean(e));
  await server.exchangeV1Code(code, 'demo-hash').catch(() => {}); // the code may be burnt by the failed try
  assert.throws(() => handleV1Redirect(pendingJson, `${REDIRECT}?code=${code.code}&state=${state}x`), (e) => e.code === 'state_mismatch' && clean(e));
  const c = new WorkboardClient({ environment: sim.url, token: TOKEN });
  assert.ok(!JSON.stringify(c.credentialsSummary()).includes(TOKEN));
});
