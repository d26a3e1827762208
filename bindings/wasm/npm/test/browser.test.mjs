// examples/web in real headless Chromium (playwright-core driving /usr/bin/chromium) against
// workboard-sim: Connect → consent page → Approve → back on the page → tools listed. For
// WorkBoard v1 the page sends the code to examples/rust-service (the app server's exchange,
// which holds the Client Hash), on another loopback origin (the service allows CORS there).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { launchChromium } from './support/chromium.mjs';
import { startSim } from './support/sim.mjs';
import { startRustService } from './support/rust-service.mjs';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const OUT = process.env.WASM_TEST_OUT || fileURLToPath(new URL('../test-results/', import.meta.url));
const SERVED = ['/examples/web/', '/bindings/wasm/npm/'];
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.ts': 'text/plain' };
const V1_CLIENT = { id: 'web-v1', hash: 'web-hash' };

const TOKEN = 'wbp_browser_eras_token';
let web; let webUrl; let sim; let service; let browser;
const eraSims = {};

/** The page's static files (the repository's examples/web and the package). */
function startWeb() {
  return new Promise((resolve) => {
    const server = createServer(async (req, res) => {
      const url = new URL(req.url, 'http://x');
      try {
        const file = path.normalize(decodeURIComponent(url.pathname));
        if (req.method !== 'GET' || !SERVED.some((p) => file.startsWith(p)) || file.includes('node_modules')) {
          res.writeHead(404); res.end('not found'); return;
        }
        const data = await readFile(path.join(ROOT, file));
        res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
        res.end(data);
      } catch {
        res.writeHead(404); res.end('not found');
      }
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

before(async () => {
  web = await startWeb();
  webUrl = `http://127.0.0.1:${web.address().port}`;
  const redirect = `${webUrl}/examples/web/index.html`;
  sim = await startSim(['--client', `web-public::${redirect}`, '--client', `${V1_CLIENT.id}:${V1_CLIENT.hash}:${redirect}`]);
  service = await startRustService({ clientId: V1_CLIENT.id, clientHash: V1_CLIENT.hash, redirectUri: redirect, environment: sim.url });
  for (const era of ['modern', 'legacy']) eraSims[era] = await startSim(['--era', era, '--sse', '--seed-personal-token', TOKEN]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await service?.stop();
  await sim?.stop();
  for (const s of Object.values(eraSims)) await s.stop();
  await new Promise((r) => (web ? web.close(r) : r()));
});

async function connectAndApprove(query, screenshot, { exchange } = {}) {
  // A fresh context: a fresh profile (storage, cookies) for each scenario.
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  const exchanges = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => {
    if (r.url() === exchange) exchanges.push(`${r.request().method()} ${r.status()} ${r.headers()['access-control-allow-origin'] ?? '-'}`);
  });
  try {
    await page.goto(`${webUrl}/examples/web/index.html?wb=${encodeURIComponent(sim.url)}&${query}`);
    if (exchange) await page.fill('#exchange', exchange);
    await page.click('#connect');
    // WorkBoard's consent page (the simulator's).
    await page.waitForURL((u) => u.href.startsWith(`${sim.url}/wb/oauth/authorize`), { timeout: 20000 });
    assert.match(await page.textContent('body'), /wants to access your WorkBoard account/);
    await page.click('#approve');
    // Back on the app, which completes sign-in and lists the tools.
    await page.waitForURL((u) => u.href.startsWith(`${webUrl}/examples/web/index.html`), { timeout: 20000 });
    await page.waitForFunction(() => document.body.dataset.state === 'tools-listed' || document.getElementById('status').className === 'error', null, { timeout: 20000 });
    const statusText = await page.textContent('#status');
    assert.equal(await page.getAttribute('body', 'data-state'), 'tools-listed', `status: ${statusText}; page errors: ${errors.join('; ')}`);
    const names = await page.$$eval('#tools li code', (els) => els.map((e) => e.textContent));
    // The code left the address bar; the credentials are in sessionStorage, not in the URL.
    assert.equal(new URL(page.url()).search, '');
    await mkdir(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, screenshot), fullPage: true });
    return { names, statusText, errors, exchanges };
  } finally {
    await context.close();
  }
}

test('browser: OAuth 2.1 with PKCE as a public client — connect, consent, approve, tools listed', async () => {
  const { names, statusText, errors } = await connectAndApprove('mode=oauth21&client_id=web-public', 'web-oauth21-tools.png');
  assert.ok(names.includes('get_current_user'), names.join(','));
  assert.match(statusText, /Connected: \d+ tools/);
  assert.deepEqual(errors, []);
});

test('browser: WorkBoard v1, code exchanged by examples/rust-service — connect, consent, approve, tools listed', async () => {
  const { names, errors, exchanges } = await connectAndApprove(`mode=v1&client_id=${V1_CLIENT.id}`, 'web-v1-tools.png', { exchange: service.exchangeUrl });
  assert.ok(names.includes('list_teams'), names.join(','));
  assert.deepEqual(errors, []);
  // One cross-origin POST (JSON, so after a CORS preflight, which Playwright does not report),
  // answered by the service and allowed for the page's loopback origin.
  assert.deepEqual(exchanges, [`POST 200 ${webUrl}`]);
});

for (const era of ['modern', 'legacy']) {
  test(`browser (${era} era): a tool asks for input — the page renders the form, the user answers; a resource is shown; the page subscribes`, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const simUrl = eraSims[era].url;
    try {
      await page.goto(`${webUrl}/examples/web/index.html?wb=${encodeURIComponent(simUrl)}&mode=token&era=${era}`);
      await page.fill('#token', TOKEN);
      await page.click('#connect');
      await page.waitForFunction(() => document.body.dataset.state === 'tools-listed' || document.getElementById('status').className === 'error', null, { timeout: 20000 });
      assert.equal(await page.getAttribute('body', 'data-state'), 'tools-listed', `${await page.textContent('#status')}; ${errors.join('; ')}`);
      // The first resource, read and shown.
      await page.waitForFunction(() => document.body.dataset.resource, null, { timeout: 20000 });
      const uri = await page.getAttribute('body', 'data-resource');
      assert.match(uri, /^workboard:\/\//);
      assert.ok((await page.textContent('#resource')).startsWith(uri));
      assert.ok((await page.$$('#resources li')).length > 1);
      // The tool's question reaches the page's handler, which renders the form from its schema.
      await page.click('#check-in-button');
      await page.waitForSelector('#elicitation:not([hidden])', { timeout: 20000 });
      assert.match(await page.textContent('#elicitation-message'), /how confident are you/);
      assert.equal(await page.getAttribute('#field-confidence', 'type'), 'number');
      assert.equal(await page.getAttribute('#field-confidence', 'max'), '10');
      await page.fill('#field-confidence', '8');
      await page.fill('#field-note', `answered in the page (${era})`);
      await mkdir(OUT, { recursive: true });
      const form = path.join(OUT, `web-${era}-elicitation-form.png`);
      await page.screenshot({ path: form, fullPage: true });
      await page.click('#elicitation-accept');
      await page.waitForFunction(() => document.body.dataset.checkIn, null, { timeout: 20000 });
      const drafted = await page.textContent('#check-in');
      assert.equal(await page.getAttribute('body', 'data-check-in'), 'drafted', drafted);
      assert.match(drafted, new RegExp(`confidence 8/10\\. answered in the page \\(${era}\\)`));
      const done = path.join(OUT, `web-${era}-check-in.png`);
      await page.screenshot({ path: done, fullPage: true });
      console.log(`screenshots (${era} era): ${form} ${done}`);
      assert.deepEqual(errors, []);
      // The server saw the answer the way its era carries it.
      const stats = async () => (await (await fetch(`${simUrl}/__sim/stats`)).json()).counters;
      const counters = await stats();
      assert.equal(counters[era === 'modern' ? 'mcp:input_completed' : 'mcp:client_response'], 1, JSON.stringify(counters));

      // The rest of the surface from the page's own JavaScript: discover, prompts, completion,
      // a subscription that hears a change the server announces (then break closes it).
      const opened = era === 'modern' ? 'mcp:listen:open' : 'mcp:get_stream:open';
      const before = counters[opened] ?? 0;
      const surface = await page.evaluate(async ({ simUrl, token, era }) => {
        const { WorkboardClient } = await import('workboard-connect');
        const c = new WorkboardClient({ environment: simUrl, token, era });
        const d = await c.discover();
        const prompts = (await c.listPrompts()).map((p) => p.name).sort();
        const prompt = await c.getPrompt('weekly_update', { team: 'Platform' });
        const completion = await c.complete({ type: 'ref/prompt', name: 'weekly_update' }, 'team', 'Pl');
        const sub = c.subscribe({ toolsListChanged: true });
        window.heard = (async () => {
          const got = [];
          for await (const n of sub) {
            got.push(n.method);
            if (n.method === 'notifications/tools/list_changed') break;
          }
          const end = await sub.ended.then(String, (e) => e.code);
          await c.close();
          return { got, end };
        })();
        return { modern: d.modern, prompts, messages: prompt.messages.length, values: completion.values };
      }, { simUrl, token: TOKEN, era });
      assert.equal(surface.modern, era === 'modern');
      assert.deepEqual(surface.prompts, ['objective_review', 'weekly_update']);
      assert.ok(surface.messages > 0 && surface.values.length > 0, JSON.stringify(surface));
      // Once the subscription's stream is open at the server, it announces a change.
      for (let i = 0; i < 200 && ((await stats())[opened] ?? 0) <= before; i++) await new Promise((r) => setTimeout(r, 25));
      assert.ok(((await stats())[opened] ?? 0) > before, `${era}: the page's subscription never opened its stream`);
      const notify = await fetch(`${simUrl}/__sim/notify`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"tools_list_changed":true}' });
      assert.equal(notify.status, 200);
      const heard = await page.evaluate(() => window.heard);
      const expected = era === 'modern' ? ['notifications/subscriptions/acknowledged', 'notifications/tools/list_changed'] : ['notifications/tools/list_changed'];
      assert.deepEqual(heard, { got: expected, end: 'cancelled' });
    } finally {
      await context.close();
    }
  });
}
