// The package's TypeScript declarations: a usage file type-checks against them (through the
// package name and `exports`), and the package name resolves in Node to the Node entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const NPM_DIR = fileURLToPath(new URL('..', import.meta.url));

test('the .d.ts type-checks an app using the whole API (tsc --strict --noEmit)', () => {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  try {
    execFileSync(process.execPath, [tsc, '-p', 'test/types', '--strict', '--noEmit'], { cwd: NPM_DIR, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
  }
});

test('import "workboard-connect" in Node resolves to the Node entry and works', async () => {
  const m = await import('workboard-connect');
  assert.equal(typeof m.WorkboardClient, 'function');
  assert.equal(new m.WorkboardClient({ token: 't' }).credentialsSummary().kind, 'personal');
});
