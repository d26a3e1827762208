// Every tests/vectors transcript, replayed through the npm package in Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVectors, replay, OPS, UNSUPPORTED } from './support/replay.mjs';

const vectors = loadVectors();

test('there are vectors to replay', () => {
  assert.ok(vectors.length >= 4, `found ${vectors.length}`);
});

for (const { file, vector } of vectors) {
  test(`vector ${file}`, async () => {
    const unsupported = vector.steps.map((s) => s.op).filter((op) => !OPS[op]);
    const failures = await replay(file, vector);
    assert.deepEqual(failures, [], `${failures.length} failure(s):\n${failures.join('\n')}` +
      (unsupported.length ? `\nunsupported ops: ${unsupported.map((o) => `${o} (${UNSUPPORTED[o] ?? 'not implemented'})`).join(', ')}` : ''));
  });
}
