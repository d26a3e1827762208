// Starts examples/rust-service (EXAMPLE_RUST_SERVICE_BIN, built by test.sh next to
// workboard-sim): the app server's WorkBoard v1 code exchange, holding the Client Hash, on
// 127.0.0.1 with an OS-chosen port. Stops it with SIGINT (its graceful shutdown).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export async function startRustService({ clientId, clientHash, redirectUri, environment }) {
  const bin = process.env.EXAMPLE_RUST_SERVICE_BIN;
  if (!bin) throw new Error('EXAMPLE_RUST_SERVICE_BIN is not set (run bindings/wasm/test.sh)');
  const child = spawn(bin, [], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      WORKBOARD_CLIENT_ID: clientId,
      WORKBOARD_CLIENT_HASH: clientHash,
      WORKBOARD_REDIRECT_URI: redirectUri,
      WORKBOARD_ENV: environment,
      PORT: '0',
    },
  });
  // The service has no stdin watch: make sure it does not outlive this test process.
  const killOnExit = () => child.kill();
  process.once('exit', killOnExit);
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`example-rust-service exited with ${code}`)));
    lines.once('line', resolve);
  });
  const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(first);
  if (!m) { child.kill(); throw new Error(`unexpected first line from example-rust-service: ${first}`); }
  return {
    url: m[1],
    exchangeUrl: `${m[1]}/api/workboard/exchange`,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGINT');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
        await exited;
      }
    },
  };
}
