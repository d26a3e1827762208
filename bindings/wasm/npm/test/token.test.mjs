// `workboard-connect/token` (token-node.js): the build without the `sign-in` feature. It has
// the whole MCP surface and none of the sign-in methods, and it still refreshes saved OAuth
// credentials (signed in elsewhere: here by the main entry) when their access token expires.
// sim-eras.test.mjs and surface.test.mjs run on this entry too (test.sh, WORKBOARD_ENTRY).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as full from '../node.js';
import * as lean from '../token-node.js';
import { startSim, consent } from './support/sim.mjs';

const SIGN_IN = ['startMcpSignIn', 'completeMcpSignIn', 'stepUpMcpSignIn', 'startV1SignIn',
  'handleV1Redirect', 'exchangeV1Code', 'revokeV1Credentials'];
const methods = (m) => Object.getOwnPropertyNames(m.WorkboardClient.prototype).filter((n) => n !== 'constructor');

let sim;
before(async () => {
  sim = await startSim(['--client', 'web-public::http://127.0.0.1:9/cb', '--seed-personal-token', 'wbp_token_entry']);
});
after(async () => { await sim?.stop(); });

async function stats() {
  return (await (await fetch(`${sim.url}/__sim/stats`)).json()).counters;
}

test('the token entry: every method of the main entry but the sign-in ones; a module of its own', () => {
  const want = methods(full).filter((n) => !SIGN_IN.includes(n)).sort();
  assert.ok(SIGN_IN.every((n) => methods(full).includes(n)), 'the main entry has every sign-in method');
  assert.deepEqual(methods(lean).sort(), want);
  for (const n of ['listTools', 'callTool', 'listResources', 'readResource', 'listPrompts', 'getPrompt',
    'complete', 'subscribe', 'notifications', 'request', 'requestWithClientInput', 'discover', 'connect',
    'ping', 'close', 'refreshMcpCredentials', 'revokeMcpCredentials']) {
    assert.ok(want.includes(n), n);
  }
  assert.equal(lean.startV1SignIn, undefined);
  assert.equal(lean.handleV1Redirect, undefined);
  assert.equal(typeof full.startV1SignIn, 'function');
  assert.notEqual(lean.WorkboardClient, full.WorkboardClient);
  assert.equal(lean.version(), full.version());
});

test('the token entry refreshes saved OAuth credentials once when their access token expires', async () => {
  // Signed in by the main entry (a server-side sign-in, say); the page gets what it saved.
  const signer = new full.WorkboardClient({ environment: sim.url });
  const start = await signer.startMcpSignIn({ redirectUri: 'http://127.0.0.1:9/cb', clientId: 'web-public' });
  await signer.completeMcpSignIn(null, await consent(start.url));
  const saved = [];
  const c = new lean.WorkboardClient({
    environment: sim.url, credentials: signer.credentialsJson(), authContext: signer.authContextJson(),
  });
  c.onCredentialsChanged((j) => saved.push(j));
  assert.ok((await c.listTools()).length > 0);
  const before = (await stats())['token:refresh_token'] ?? 0;
  const r = await fetch(`${sim.url}/__sim/clock`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ advance_secs: 3 * 24 * 3600 }) });
  assert.equal(r.status, 200, await r.text());
  const [tools, me] = await Promise.all([c.listTools(), c.callTool('get_current_user', {})]);
  assert.ok(tools.length > 0);
  assert.equal(me.isError, false);
  assert.equal((await stats())['token:refresh_token'], before + 1);
  assert.equal(saved.length, 1);
  assert.equal(saved[0], c.credentialsJson());
  assert.notEqual(JSON.parse(saved[0]).access_token, JSON.parse(signer.credentialsJson()).access_token);
  await c.close();
});

test('the token entry: a personal token, typed errors as in the main entry', async () => {
  const c = new lean.WorkboardClient({ environment: sim.url, token: 'wbp_token_entry' });
  assert.equal(c.credentialsSummary().kind, 'personal');
  const me = await c.callTool('get_current_user', {});
  assert.equal(me.isError, false);
  const wrong = new lean.WorkboardClient({ environment: sim.url, token: 'wbp_wrong' });
  await assert.rejects(wrong.listTools(), (e) => e.name === 'WorkboardError' && e.kind === 'needs_sign_in' && !e.message.includes('wbp_wrong'));
  assert.throws(() => new lean.WorkboardClient({ environment: 'not a url' }), (e) => e.code === 'invalid_url');
  await c.close();
});
