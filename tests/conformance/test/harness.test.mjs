// Self-test of the conformance harness (run.mjs + workboard-adapter.mjs): the verdicts and the
// expected-failures rules, on the suite's quickest scenario (`initialize`, 2025-11-25), with the
// real CLI (WORKBOARD_BIN) and with a stand-in CLI that fails every command.
// Run: WORKBOARD_BIN=… node --test test/   (tests/conformance/test.sh does, on Node 22)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const RUN = join(HERE, '..', 'run.mjs');
const BIN = process.env.WORKBOARD_BIN;

/** run.mjs on `initialize` at 2025-11-25 only: resolves {code, stdout}. */
function run(bin, expectedLines, extra = []) {
  const dir = mkdtempSync(join(tmpdir(), 'wb-harness-'));
  const expected = join(dir, 'expected.txt');
  writeFileSync(expected, expectedLines.join('\n'));
  const args = [RUN, '--client', 'ours', '--bin', bin, '--scenario', 'initialize', '--revision', '2025-11-25',
    '--expected-failures', expected, '--out', join(dir, 'out'), ...extra];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: 90000 }, (err, stdout) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: err ? err.code : 0, stdout });
    });
  });
}

/** A stand-in `workboard` that fails every command (exit 5, no output). */
function failingBin() {
  const dir = mkdtempSync(join(tmpdir(), 'wb-fake-'));
  const bin = join(dir, 'workboard');
  writeFileSync(bin, '#!/bin/sh\necho "fake CLI: always fails" >&2\nexit 5\n');
  chmodSync(bin, 0o755);
  return bin;
}

test('a failure that is not listed fails the run and is named', async () => {
  const r = await run(failingBin(), []);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /initialize\s+2025-11-25\s+FAIL/);
  assert.match(r.stdout, /UNEXPECTED failures[\s\S]*initialize 2025-11-25/);
});

test('a listed failure passes the run and shows its reason', async () => {
  const r = await run(failingBin(), ['initialize 2025-11-25 the stand-in CLI fails everything']);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /expected: the stand-in CLI fails everything/);
  assert.match(r.stdout, /ours\s+2025-11-25: 0\/1 required scenarios pass/);
});

test('the real CLI passes initialize; listed, it is reported as now passing (--strict fails)', async () => {
  assert.ok(BIN, 'WORKBOARD_BIN must name the workboard binary');
  const plain = await run(BIN, []);
  assert.equal(plain.code, 0, plain.stdout);
  assert.match(plain.stdout, /ours\s+2025-11-25: 1\/1 required scenarios pass/);
  const listed = await run(BIN, ['initialize 2025-11-25 stale entry']);
  assert.equal(listed.code, 0, listed.stdout);
  assert.match(listed.stdout, /now PASSING[\s\S]*initialize 2025-11-25/);
  const strict = await run(BIN, ['initialize 2025-11-25 stale entry'], ['--strict']);
  assert.equal(strict.code, 1, strict.stdout);
});

test('a malformed expected-failures line is refused (exit 2)', async () => {
  const r = await run(failingBin(), ['initialize 2099-01-01 no such revision']);
  assert.equal(r.code, 2);
});
