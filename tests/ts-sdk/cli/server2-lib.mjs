// Starts the TypeScript SDK 2.x peer server (../server2.mjs) for the CLI and bridge tests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER2 = join(dirname(fileURLToPath(import.meta.url)), '..', 'server2.mjs');

export /** Spawns server2.mjs; resolves once it printed its listening line. */
async function startServer(args) {
  const child = spawn(process.execPath, [SERVER2, '--port', '0', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.on('error', () => {}); // a server that died: reported by its exit below
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
  const [first] = await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`server2 exited early (${code}): ${stderr}`);
    }),
  ]);
  clearTimeout(timer);
  const m = /^listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)$/.exec(first);
  assert.ok(m, `unexpected first line: ${first}`);
  return {
    url: m[1],
    async stats(reset = false) {
      const res = await fetch(m[1].replace(/\/mcp$/, `/__stats${reset ? '?reset=1' : ''}`), { signal: AbortSignal.timeout(5000) });
      return res.json();
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin.end();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(kill);
    },
  };
}
