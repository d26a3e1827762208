// Smoke tests of the real flows against workboard-sim on 127.0.0.1, through the package.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WorkboardClient, startV1SignIn, handleV1Redirect } from '../node.js';
import { startSim, consent } from './support/sim.mjs';

const REDIRECT = 'http://127.0.0.1:8765/callback'; // the simulator's demo client
let sim;
before(async () => { sim = await startSim(['--dcr', 'on', '--client', 'web-public::http://127.0.0.1:9/cb']); });
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
  await assert.rejects(server.exchangeV1Code(code, 'demo-hash'), (e) => e.name === 'WorkboardError' && e.code === 'token_endpoint_error');

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
