// Every tests/vectors transcript, replayed through the npm package in Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadVectors, replay, OPS, UNSUPPORTED, VECTOR_DIR } from './support/replay.mjs';

const vectors = loadVectors();

test('there are vectors to replay', () => {
  assert.ok(vectors.length >= 4, `found ${vectors.length}`);
});

test('every operation of the transcript format (tests/vectors/README.md) is replayed here; none is skipped', () => {
  const readme = readFileSync(`${VECTOR_DIR}README.md`, 'utf8');
  const table = readme.slice(readme.indexOf('## Operations'), readme.indexOf('## MCP connection vectors'));
  const ops = [...table.matchAll(/^\| `([a-z0-9_]+)` \|/gm)].map((m) => m[1]);
  assert.ok(ops.length >= 20, `found ${ops.length} operations in the README`);
  assert.deepEqual(ops.filter((op) => !OPS[op]), [], 'operations the package does not replay');
  assert.deepEqual(Object.keys(UNSUPPORTED), [], 'no operation is declared unsupported');
  // The modern-era and the newer legacy transcripts are among those replayed.
  const files = vectors.map((v) => v.file);
  for (const f of ['mcp_modern_list_cache.json', 'mcp_modern_resources_prompts.json', 'mcp_modern_discover_ping.json',
    'mcp_legacy_resources_prompts.json', 'mcp_server_requests_on_stream.json']) {
    assert.ok(files.includes(f), f);
  }
});

for (const { file, vector } of vectors) {
  test(`vector ${file}`, async () => {
    const unsupported = vector.steps.map((s) => s.op).filter((op) => !OPS[op]);
    const failures = await replay(file, vector);
    assert.deepEqual(failures, [], `${failures.length} failure(s):\n${failures.join('\n')}` +
      (unsupported.length ? `\nunsupported ops: ${unsupported.map((o) => `${o} (${UNSUPPORTED[o] ?? 'not implemented'})`).join(', ')}` : ''));
  });
}
