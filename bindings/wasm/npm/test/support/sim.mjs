// Starts workboard-sim (WORKBOARD_SIM_BIN, built by test.sh) on 127.0.0.1 and stops it.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export async function startSim(args = []) {
  const bin = process.env.WORKBOARD_SIM_BIN;
  if (!bin) throw new Error('WORKBOARD_SIM_BIN is not set (run bindings/wasm/test.sh)');
  const child = spawn(bin, ['--port', '0', '--exit-on-stdin-close', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`workboard-sim exited with ${code}`)));
    lines.once('line', resolve);
  });
  const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(first);
  if (!m) { child.kill(); throw new Error(`unexpected first line from workboard-sim: ${first}`); }
  return {
    url: m[1],
    async stop() {
      child.stdin.end();
      if (child.exitCode === null) {
        await new Promise((resolve) => { child.once('exit', resolve); setTimeout(() => child.kill(), 3000).unref(); });
      }
    },
  };
}

/** Plays the user on the simulator's consent page: loads `authorizeUrl`, presses Approve (or
 * Deny) and returns the redirect URL the browser would follow. */
export async function consent(authorizeUrl, decision = 'approve') {
  const page = await fetch(authorizeUrl, { redirect: 'manual' });
  if (page.status >= 300 && page.status < 400) return page.headers.get('location');
  const html = await page.text();
  const rid = /name="request_id" value="([^"]+)"/.exec(html);
  if (!rid) throw new Error(`no consent form (HTTP ${page.status}): ${html.slice(0, 300)}`);
  const base = new URL(authorizeUrl);
  const r = await fetch(new URL('/wb/oauth/authorize/decision', base), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request_id: rid[1], decision }),
  });
  const loc = r.headers.get('location');
  if (!loc) throw new Error(`consent decision answered ${r.status} without Location`);
  return loc;
}
