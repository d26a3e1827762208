#!/usr/bin/env node
// Runs the official MCP conformance suite's client scenarios against the workboard CLI ("ours",
// through workboard-adapter.mjs) and/or the TypeScript SDK 2.x client ("theirs", ts-client.mjs),
// and prints a score table.
//
// Usage (Node 22; tests/conformance/test.sh sets everything up):
//   node run.mjs [--client ours|theirs|both] [--bin PATH] [--revision 2026-07-28|2025-11-25]…
//                [--scenario NAME]… [--jobs N] [--timeout-ms N] [--out DIR] [--strict] [--json FILE]
//                [--expected-failures FILE]
//
// Which scenarios: every client scenario the suite's frozen requirement set names as required for
// each revision (node_modules/@modelcontextprotocol/conformance/requirements/<rev>.yaml, `client:`),
// plus the OAuth client-credentials extension scenarios, each run at that revision's wire version
// (as `conformance client --requirements REV` does: --spec-version REV --force).
//
// A scenario passes when the suite says so: no failed or warning check, no client timeout, and a
// zero client exit status unless the scenario expects the client to give up (the suite's own
// verdict, its exit status for one scenario). The "checks" column counts SUCCESS / (SUCCESS +
// FAILURE + WARNING) checks.
//
// Expected failures (ours only): expected-failures.txt, one line per failure
//   <scenario> <revision> <reason…>        ('#' starts a comment)
// Exit 1 when a scenario that is not listed fails (ours), or with --strict when a listed one now
// passes; a listed one that passes is always reported ("now passes: remove the line").
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const SUITE = join(HERE, 'node_modules/@modelcontextprotocol/conformance');
const REVISIONS = ['2026-07-28', '2025-11-25'];
const EXTENSIONS = ['auth/client-credentials-basic', 'auth/client-credentials-jwt'];
const USAGE =
  'usage: node run.mjs [--client ours|theirs|both] [--bin PATH] [--revision REV]… [--scenario NAME]… [--jobs N] [--timeout-ms N] [--out DIR] [--strict] [--json FILE] [--expected-failures FILE]';

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      client: { type: 'string', default: 'both' },
      bin: { type: 'string', default: process.env.WORKBOARD_BIN },
      revision: { type: 'string', multiple: true },
      scenario: { type: 'string', multiple: true },
      jobs: { type: 'string', default: '3' },
      'timeout-ms': { type: 'string', default: '30000' },
      out: { type: 'string' },
      strict: { type: 'boolean', default: false },
      json: { type: 'string' },
      'expected-failures': { type: 'string', default: join(HERE, 'expected-failures.txt') },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (err) {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(2);
}
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
const clients = { ours: ['ours'], theirs: ['theirs'], both: ['ours', 'theirs'] }[opts.client];
const jobs = Number(opts.jobs);
const timeoutMs = Number(opts['timeout-ms']);
if (!clients || !Number.isInteger(jobs) || jobs < 1 || jobs > 16 || !Number.isInteger(timeoutMs) || timeoutMs < 1000 || timeoutMs > 300000) {
  console.error(USAGE);
  process.exit(2);
}
if (clients.includes('ours') && !(opts.bin && existsSync(opts.bin))) {
  console.error(`run.mjs: the workboard binary is needed for --client ours (--bin or WORKBOARD_BIN; got ${opts.bin ?? 'nothing'})`);
  process.exit(2);
}
if (!existsSync(join(SUITE, 'dist/index.js'))) {
  console.error('run.mjs: the conformance suite is not installed: run tests/conformance/install.sh');
  process.exit(2);
}
if (/\s/.test(HERE) || /\s/.test(process.execPath)) {
  // The suite splits the client command on spaces.
  console.error('run.mjs: the suite cannot run a client from a path containing spaces');
  process.exit(2);
}

/** The `client:` list of a frozen requirement set (a flat YAML list of names). */
function requiredClientScenarios(revision) {
  const text = readFileSync(join(SUITE, 'requirements', `${revision}.yaml`), 'utf8');
  const out = [];
  let inClient = false;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) inClient = line.trim() === 'client:';
    else if (inClient) {
      const m = line.match(/^\s+-\s+([A-Za-z0-9_/.-]+)\s*(#.*)?$/);
      if (m) out.push(m[1]);
    }
  }
  if (out.length === 0) throw new Error(`no client scenarios found in requirements/${revision}.yaml`);
  return out;
}

/** expected-failures.txt → Map("scenario revision" → reason). */
function loadExpectedFailures() {
  const map = new Map();
  const file = opts['expected-failures'];
  if (!existsSync(file)) throw new Error(`no expected-failures file ${file}`);
  for (const [i, raw] of readFileSync(file, 'utf8').split('\n').entries()) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const m = line.match(/^(\S+)\s+(\S+)\s+(.+)$/);
    if (!m || !REVISIONS.includes(m[2])) throw new Error(`expected-failures.txt:${i + 1}: want "<scenario> <revision> <reason>"`);
    map.set(`${m[1]} ${m[2]}`, m[3]);
  }
  return map;
}

const revisions = opts.revision ?? REVISIONS;
for (const r of revisions) {
  if (!REVISIONS.includes(r)) {
    console.error(`run.mjs: unknown revision ${r} (${REVISIONS.join(', ')})`);
    process.exit(2);
  }
}
const runs = [];
for (const revision of revisions) {
  for (const scenario of [...requiredClientScenarios(revision), ...EXTENSIONS]) {
    if (opts.scenario && !opts.scenario.includes(scenario)) continue;
    runs.push({ scenario, revision, required: !EXTENSIONS.includes(scenario) });
  }
}
let expected;
try {
  expected = loadExpectedFailures();
} catch (err) {
  console.error(`run.mjs: ${err.message}`);
  process.exit(2);
}
// The default results/ is ours to clear; a directory named with --out must be new or empty.
const outRoot = opts.out ?? join(HERE, 'results');
if (opts.out === undefined) rmSync(outRoot, { recursive: true, force: true });
else if (existsSync(outRoot) && readdirSync(outRoot).length > 0) {
  console.error(`run.mjs: --out ${outRoot} is not empty`);
  process.exit(2);
}
mkdirSync(outRoot, { recursive: true });
// On a full run, every expected failure must name a scenario that ran (catches typos and
// scenarios that left the requirement sets).
if (!opts.scenario && !opts.revision) {
  const ran = new Set(runs.map((r) => `${r.scenario} ${r.revision}`));
  const stale = [...expected.keys()].filter((k) => !ran.has(k));
  if (stale.length) {
    console.error(`run.mjs: expected-failures.txt names runs that do not exist: ${stale.join('; ')}`);
    process.exit(2);
  }
}

const commands = {
  ours: `${process.execPath} ${join(HERE, 'workboard-adapter.mjs')}`,
  theirs: `${process.execPath} ${join(HERE, 'ts-client.mjs')}`,
};

/** The checks.json the suite wrote under DIR (its result dir name carries a timestamp). */
function findChecks(dir) {
  if (!existsSync(dir)) return null;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'checks.json') return p;
    if (statSync(p).isDirectory()) {
      const found = findChecks(p);
      if (found) return found;
    }
  }
  return null;
}

/** One scenario, one revision, one client: the suite's verdict and its checks. */
function runOne(run, client) {
  const dir = join(outRoot, client, run.revision, run.scenario.replaceAll('/', '_'));
  mkdirSync(dir, { recursive: true });
  const args = [
    join(SUITE, 'dist/index.js'), 'client',
    '--command', commands[client],
    '--scenario', run.scenario,
    '--spec-version', run.revision,
    '--force',
    '--timeout', String(timeoutMs),
    '-o', dir,
  ];
  const start = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: dir,
      env: { ...process.env, WORKBOARD_BIN: opts.bin ?? '', NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (d) => {
      if (output.length < 1024 * 1024) output += d;
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // The suite kills a client after timeoutMs; this bounds the suite process itself.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 20000);
    child.on('close', (code) => {
      clearTimeout(timer);
      writeFileSync(join(dir, 'suite-output.txt'), output);
      const checksFile = findChecks(dir);
      const checks = checksFile ? JSON.parse(readFileSync(checksFile, 'utf8')) : [];
      const count = (s) => checks.filter((c) => c.status === s).length;
      const passedChecks = count('SUCCESS');
      const scored = passedChecks + count('FAILURE') + count('WARNING');
      const problems = checks
        .filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')
        .map((c) => `${c.id}: ${String(c.errorMessage ?? c.details?.message ?? c.description ?? '').replace(/\s+/g, ' ').slice(0, 300)}`);
      if (/CLIENT TIMED OUT/.test(output)) problems.push('client timed out');
      if (/CLIENT EXITED WITH ERROR/.test(output)) problems.push('client exited with an error status');
      resolve({
        pass: code === 0 && checks.length > 0,
        checks: `${passedChecks}/${scored}`,
        passedChecks,
        scored,
        problems,
        seconds: Math.round((Date.now() - start) / 100) / 10,
        dir,
      });
    });
  });
}

// Run everything with a bounded pool.
const queue = [];
for (const run of runs) for (const client of clients) queue.push({ run, client });
const t0 = Date.now();
let next = 0;
async function worker() {
  while (next < queue.length) {
    const item = queue[next++];
    item.run[item.client] = await runOne(item.run, item.client);
    const r = item.run[item.client];
    process.stderr.write(`  ${r.pass ? 'pass' : 'FAIL'}  ${item.client.padEnd(6)} ${item.run.revision} ${item.run.scenario} (${r.checks} checks, ${r.seconds} s)\n`);
  }
}
await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));

// ---- report ----
const width = Math.max(...runs.map((r) => r.scenario.length), 8);
const cell = (r) => (r ? `${r.pass ? 'pass' : 'FAIL'} ${r.checks}`.padEnd(14) : ''.padEnd(14));
console.log(`\n${'scenario'.padEnd(width)}  revision    ${clients.map((c) => (c === 'ours' ? 'ours (workboard)' : 'theirs (TS 2.4)').padEnd(18)).join('')}note`);
for (const r of runs) {
  const key = `${r.scenario} ${r.revision}`;
  let note = r.required ? '' : 'extension (not scored)';
  if (r.ours && !r.ours.pass && expected.has(key)) note = `expected: ${expected.get(key)}`;
  console.log(`${r.scenario.padEnd(width)}  ${r.revision}  ${clients.map((c) => cell(r[c]).padEnd(18)).join('')}${note}`);
}
console.log('');
for (const revision of revisions) {
  for (const c of clients) {
    const req = runs.filter((r) => r.revision === revision && r.required);
    const ext = runs.filter((r) => r.revision === revision && !r.required);
    const checks = runs.filter((r) => r.revision === revision).reduce((a, r) => [a[0] + r[c].passedChecks, a[1] + r[c].scored], [0, 0]);
    console.log(
      `${c.padEnd(6)} ${revision}: ${req.filter((r) => r[c].pass).length}/${req.length} required scenarios pass, ` +
        `${ext.filter((r) => r[c].pass).length}/${ext.length} client-credentials extension; checks ${checks[0]}/${checks[1]}`,
    );
  }
}
console.log(`(${runs.length * clients.length} runs in ${Math.round((Date.now() - t0) / 1000)} s; results in ${outRoot})`);

let exit = 0;
if (clients.includes('ours')) {
  const unexpected = runs.filter((r) => !r.ours.pass && !expected.has(`${r.scenario} ${r.revision}`));
  const nowPassing = runs.filter((r) => r.ours.pass && expected.has(`${r.scenario} ${r.revision}`));
  if (unexpected.length) {
    console.log('\nUNEXPECTED failures (ours; not in expected-failures.txt):');
    for (const r of unexpected) {
      console.log(`  ${r.scenario} ${r.revision}  (${r.ours.dir})`);
      for (const p of r.ours.problems.slice(0, 8)) console.log(`      ${p}`);
    }
    exit = 1;
  }
  if (nowPassing.length) {
    console.log('\nListed in expected-failures.txt but now PASSING (remove these lines):');
    for (const r of nowPassing) console.log(`  ${r.scenario} ${r.revision}`);
    if (opts.strict) exit = 1;
  }
  const stillExpected = runs.filter((r) => !r.ours.pass && expected.has(`${r.scenario} ${r.revision}`));
  if (stillExpected.length) console.log(`\n${stillExpected.length} expected failure(s) (ours), listed with reasons in expected-failures.txt`);
}
if (opts.json) {
  writeFileSync(
    opts.json,
    JSON.stringify(
      runs.map((r) => ({ scenario: r.scenario, revision: r.revision, required: r.required, ...Object.fromEntries(clients.map((c) => [c, { pass: r[c].pass, checks: r[c].checks, problems: r[c].problems }])) })),
      null,
      2,
    ),
  );
}
process.exit(exit);
