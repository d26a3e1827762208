// The package as npm publishes it: `npm pack`, then the tarball installed with `npm install`
// into fresh consumer projects, each with its own tools from npm (cached installs):
//   Node ESM      import by name, a flow against workboard-sim (the `node` entry)
//   TypeScript    tsc --strict (skipLibCheck off) over an app using the whole API, in both
//                 module resolutions (nodenext, bundler), and every `@ts-expect-error` of a
//                 wrongly typed file met
//   Vite          `vite build` (its CLI, default config): the .wasm emitted as an asset, byte
//                 for byte the package's, and the browser entry bundled
// Run by bindings/wasm/test.sh after the build (WORKBOARD_SIM_BIN set).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { startSim } from '../support/sim.mjs';

const NPM_DIR = fileURLToPath(new URL('../..', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
const DEV = JSON.parse(await readFile(path.join(NPM_DIR, 'package.json'), 'utf8')).devDependencies;
const TOKEN = 'wbp_consumer_token';
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

let work; let tarball; let packed; let sim;

function run(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    assert.fail(`${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${e.stdout}${e.stderr}`);
  }
}

/** A fresh project: package.json, then `npm install` of the tarball and the given tools. */
async function project(name, pkg, deps) {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module', ...pkg }, null, 2));
  run('npm', ['install', ...NPM_FLAGS, tarball, ...deps], dir);
  return dir;
}

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'workboard-consumers-'));
  const [result] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], NPM_DIR));
  tarball = path.join(work, result.filename);
  packed = result;
  sim = await startSim(['--seed-personal-token', TOKEN]);
});

after(async () => {
  await sim?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

test('npm pack: exactly the files of `files` (and package.json), metadata complete', async () => {
  const pkg = JSON.parse(await readFile(path.join(NPM_DIR, 'package.json'), 'utf8'));
  const paths = packed.files.map((f) => f.path).sort();
  assert.deepEqual(paths, [...pkg.files, 'package.json'].sort());
  assert.equal(packed.name, 'workboard-connect');
  assert.equal(packed.version, '0.1.0');
  for (const field of ['description', 'license', 'repository', 'keywords', 'engines', 'types', 'exports', 'sideEffects']) {
    assert.ok(pkg[field], `package.json lacks ${field}`);
  }
  assert.equal(pkg.license, 'MIT OR Apache-2.0');
  assert.equal(pkg.exports['.'].types, './index.d.ts');
  assert.equal(pkg.exports['./token'].types, './token.d.ts');
  assert.deepEqual(Object.keys(pkg.dependencies ?? {}), [], 'the package has no runtime dependencies');
  console.log(`# ${result_line(packed)}`);
});

function result_line(p) {
  return `${p.filename}: ${p.size} bytes packed, ${p.unpackedSize} unpacked, ${p.files.length} files`;
}

test('Node ESM consumer: import by name, a flow against workboard-sim', async () => {
  const dir = await project('node-consumer', {}, []);
  await cp(path.join(HERE, 'app.mjs'), path.join(dir, 'app.mjs'));
  const out = JSON.parse(run(process.execPath, ['app.mjs', sim.url, TOKEN], dir));
  const installed = path.join(dir, 'node_modules', 'workboard-connect');
  assert.equal(out.resolved, new URL(`file://${path.join(installed, 'node.js')}`).href);
  assert.ok(out.tools.includes('get_current_user'), out.tools.join(', '));
  assert.match(out.me, /ada@example\.com/);
  // `workboard-connect/token`: its own module, the same MCP flow, no sign-in methods.
  assert.equal(out.token.resolved, new URL(`file://${path.join(installed, 'token-node.js')}`).href);
  assert.deepEqual(out.token.tools, out.tools);
  assert.equal(out.token.me, out.me);
  assert.deepEqual(out.token.signIn, [false, false]);
  assert.deepEqual(out.signIn, [true, true]);
});

test('TypeScript strict consumer: the installed .d.ts types an app (nodenext and bundler resolution)', async () => {
  const dir = await project('ts-consumer', {}, [`typescript@${DEV.typescript}`]);
  await cp(path.join(NPM_DIR, 'test', 'types', 'usage.ts'), path.join(dir, 'usage.ts'));
  await cp(path.join(HERE, 'wrong.ts'), path.join(dir, 'wrong.ts'));
  const options = {
    target: 'es2022', lib: ['es2022', 'esnext.disposable', 'dom'], strict: true, noEmit: true,
    skipLibCheck: false, types: [],
  };
  for (const [module, moduleResolution] of [['nodenext', 'nodenext'], ['esnext', 'bundler']]) {
    await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { ...options, module, moduleResolution }, files: ['usage.ts', 'wrong.ts'],
    }));
    run(process.execPath, [path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], dir);
  }
  // The expectations hold: without the package's types every line of wrong.ts is an error.
  await writeFile(path.join(dir, 'wrong.ts'), (await readFile(path.join(HERE, 'wrong.ts'), 'utf8')).replaceAll('// @ts-expect-error', '//'));
  let failed = '';
  try {
    execFileSync(process.execPath, [path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) { failed = e.stdout; }
  assert.equal((failed.match(/^wrong\.ts\(\d+,\d+\): error/gm) ?? []).length, 5, failed);
});

test('Vite consumer: `vite build` emits the package\'s .wasm as an asset and bundles the browser entry', async () => {
  const dir = await project('vite-consumer', { scripts: { build: 'vite build' } }, [`vite@${DEV.vite}`]);
  await cp(path.join(NPM_DIR, 'test', 'vite-app'), dir, { recursive: true });
  run('npm', ['run', '--silent', 'build'], dir);
  const assets = await readdir(path.join(dir, 'dist', 'assets'));
  const wasm = assets.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, assets.join(', '));
  const emitted = await readFile(path.join(dir, 'dist', 'assets', wasm[0]));
  assert.ok(emitted.equals(await readFile(path.join(dir, 'node_modules', 'workboard-connect', 'pkg', 'workboard_wasm_bg.wasm'))));
  const js = (await Promise.all(assets.filter((f) => f.endsWith('.js')).map((f) => readFile(path.join(dir, 'dist', 'assets', f), 'utf8')))).join('\n');
  assert.ok(js.includes(`/assets/${wasm[0]}`), 'no chunk refers to the emitted .wasm');
  assert.doesNotMatch(js, /node:fs|readFileSync/, 'the browser entry (index.js), not node.js');
  assert.match(js, /listTools/);
  // The same app on `workboard-connect/token`: the token build's .wasm is the one emitted.
  const main = path.join(dir, 'main.js');
  await writeFile(main, (await readFile(main, 'utf8')).replace("from 'workboard-connect'", "from 'workboard-connect/token'"));
  await rm(path.join(dir, 'dist'), { recursive: true, force: true });
  run('npm', ['run', '--silent', 'build'], dir);
  const tokenAssets = await readdir(path.join(dir, 'dist', 'assets'));
  const tokenWasm = tokenAssets.filter((f) => f.endsWith('.wasm'));
  assert.equal(tokenWasm.length, 1, tokenAssets.join(', '));
  const tokenEmitted = await readFile(path.join(dir, 'dist', 'assets', tokenWasm[0]));
  assert.ok(tokenEmitted.equals(await readFile(path.join(dir, 'node_modules', 'workboard-connect', 'pkg-token', 'workboard_wasm_bg.wasm'))));
  assert.ok(tokenEmitted.length < emitted.length, `token build ${tokenEmitted.length} B, full ${emitted.length} B`);
});
