// The package in a bundler: test/vite-app (index.html + main.js importing `workboard-connect` by
// name) is built by Vite against the package as `npm pack` would publish it, installed into the
// app's node_modules. The build must emit the .wasm as an asset (the glue's
// `new URL('…_bg.wasm', import.meta.url)`); then dist/ is served by a plain static server and
// opened in headless Chromium, where the app lists the tools of workboard-sim with a personal token.
// The same app also runs under Vite's dev server (dependency pre-bundling included).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { build, createServer } from 'vite';
import { launchChromium } from './support/chromium.mjs';
import { WorkboardClient } from '../node.js';
import { startSim } from './support/sim.mjs';

const NPM_DIR = fileURLToPath(new URL('..', import.meta.url));
const APP_SRC = fileURLToPath(new URL('./vite-app/', import.meta.url));
const OUT = process.env.WASM_TEST_OUT || fileURLToPath(new URL('../test-results/', import.meta.url));
const TOKEN = 'wbp_vite_test_token';
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

let work; let app; let dist; let output; let server; let serverUrl; let sim; let browser;
const served = [];

/** Installs the package the way a consumer gets it: `npm pack` (the `files` list), unpacked
 * into the app's node_modules/workboard-connect. */
async function installPackedPackage(into) {
  const [{ filename, files }] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work],
    { cwd: NPM_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  // npm pack leaves out a missing file silently (pkg/ is built by build.sh, not checked in).
  const packed = new Set(files.map((f) => f.path));
  const listed = JSON.parse(await readFile(path.join(NPM_DIR, 'package.json'), 'utf8')).files;
  assert.deepEqual(listed.filter((f) => !packed.has(f)), [], 'files missing from the packed package (run bindings/wasm/build.sh)');
  execFileSync('tar', ['-xzf', path.join(work, filename), '-C', into, '--strip-components=1']);
}

/** dist/ over HTTP, nothing else; records what was requested. */
function serveDist() {
  return new Promise((resolve) => {
    const s = createHttpServer(async (req, res) => {
      const url = new URL(req.url, 'http://x');
      const rel = url.pathname === '/' ? 'index.html' : path.normalize(decodeURIComponent(url.pathname)).slice(1);
      const file = path.join(dist, rel);
      try {
        if (req.method !== 'GET' || !file.startsWith(dist + path.sep)) throw new Error('refused');
        const data = await readFile(file);
        served.push(`${req.method} ${url.pathname} 200`);
        res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
        res.end(data);
      } catch {
        served.push(`${req.method} ${url.pathname} 404`);
        res.writeHead(404); res.end('not found');
      }
    });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'workboard-vite-'));
  app = path.join(work, 'app');
  dist = path.join(app, 'dist');
  await cp(APP_SRC, app, { recursive: true });
  const pkgDir = path.join(app, 'node_modules', 'workboard-connect');
  await mkdir(pkgDir, { recursive: true });
  await installPackedPackage(pkgDir);
  // Vite's own defaults (no config file): what an app gets without any wasm-specific setup.
  output = await build({ root: app, configFile: false, logLevel: 'warn', build: { outDir: dist, emptyOutDir: true } });
  sim = await startSim(['--seed-personal-token', TOKEN]);
  server = await serveDist();
  serverUrl = `http://127.0.0.1:${server.address().port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await sim?.stop();
  await new Promise((r) => (server ? server.close(r) : r()));
  if (work) await rm(work, { recursive: true, force: true });
});

test('vite build: the .wasm is emitted as an asset, byte for byte the package\'s, and the browser entry is bundled', async () => {
  const files = (Array.isArray(output) ? output : [output]).flatMap((o) => o.output);
  const wasm = files.filter((f) => f.type === 'asset' && f.fileName.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `assets: ${files.map((f) => f.fileName).join(', ')}`);
  assert.match(wasm[0].fileName, /^assets\/workboard_wasm_bg-[\w-]+\.wasm$/);
  const onDisk = await readFile(path.join(dist, wasm[0].fileName));
  assert.ok(onDisk.equals(await readFile(path.join(NPM_DIR, 'pkg', 'workboard_wasm_bg.wasm'))), 'the emitted .wasm differs from pkg/');
  const chunks = files.filter((f) => f.type === 'chunk');
  const js = chunks.map((c) => c.code).join('\n');
  assert.ok(js.includes(`/${wasm[0].fileName}`), 'no chunk refers to the emitted .wasm');
  // The `exports` conditions picked index.js (fetch + instantiate), not node.js (node:fs).
  assert.doesNotMatch(js, /node:fs|readFileSync/);
});

/** Opens the app at `url` in a fresh context; returns the tool names it lists, the page's
 * errors and the URLs of the .wasm responses. */
async function toolsInPage(url, screenshot) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  const wasm = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`); });
  page.on('response', (r) => { if (new URL(r.url()).pathname.endsWith('.wasm')) wasm.push(`${r.status()} ${new URL(r.url()).pathname} ${r.headers()['content-type']}`); });
  try {
    await page.goto(`${url}#wb=${encodeURIComponent(sim.url)}&token=${encodeURIComponent(TOKEN)}`);
    // A module that fails to load leaves the page at 'loading': report the page's errors then.
    await page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 30000 })
      .catch((e) => assert.fail(`${e.message}; page errors: ${errors.join('; ') || 'none'}`));
    const statusText = await page.textContent('#status');
    assert.equal(await page.getAttribute('body', 'data-state'), 'tools-listed', `status: ${statusText}; page errors: ${errors.join('; ')}`);
    const names = await page.$$eval('#tools li', (els) => els.map((e) => e.textContent));
    await mkdir(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, screenshot), fullPage: true });
    return { names, errors, wasm };
  } finally {
    await context.close();
  }
}

async function expectedTools() {
  const names = (await new WorkboardClient({ environment: sim.url, token: TOKEN }).listTools()).map((t) => t.name);
  assert.ok(names.includes('get_current_user'), names.join(','));
  return names;
}

test('vite build in headless Chromium: the app lists the tools of workboard-sim with a personal token', async () => {
  const expected = await expectedTools();
  const { names, errors, wasm } = await toolsInPage(`${serverUrl}/`, 'vite-app-tools.png');
  assert.deepEqual(names, expected);
  assert.deepEqual(errors, []);
  // The page fetched the hashed .wasm from the static server (no inlining, no 404).
  assert.equal(wasm.length, 1, wasm.join('; '));
  assert.match(wasm[0], /^200 \/assets\/workboard_wasm_bg-[\w-]+\.wasm application\/wasm$/);
  assert.ok(!served.some((l) => l.endsWith(' 404')), served.join('; '));
});

test('vite dev server (no config): the same app lists the tools in headless Chromium', async () => {
  const expected = await expectedTools();
  const dev = await createServer({ root: app, configFile: false, logLevel: 'warn', server: { host: '127.0.0.1', port: 0 } });
  try {
    await dev.listen();
    const { names, errors, wasm } = await toolsInPage(dev.resolvedUrls.local[0], 'vite-dev-tools.png');
    assert.deepEqual(names, expected);
    assert.deepEqual(errors, []);
    assert.equal(wasm.length, 1, wasm.join('; '));
    assert.match(wasm[0], /^200 \S+\/workboard_wasm_bg\.wasm application\/wasm$/);
  } finally {
    await dev.close();
  }
});
