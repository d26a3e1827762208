#!/usr/bin/env node
// Baseline for MCP 2026-07-28: how many HTTP requests / sequential round trips the official
// TypeScript SDK 2.x client (@modelcontextprotocol/client 2.4.0) needs to connect and list tools.
// The 1.x counterpart is client-roundtrips.mjs; both share roundtrips-lib.mjs.
//
// Usage: node client-roundtrips2.mjs URL [--token T] [--negotiation auto|legacy]
//                                    [--cached-era] [--call TOOL --args JSON [--calls N]] [--verbose]
//   --negotiation auto   (default) probe with server/discover, connect on the era found
//   --negotiation legacy the SDK's own default: initialize (2025-11-25 and older)
//   --cached-era         connect once unmeasured, then measure a second client that adopts the
//                        first one's discover result (`connect(transport, { prior })`): the cost
//                        from a stored era verdict
//   --calls N            after the measured run, N more calls of TOOL through the client,
//                        interleaved with N raw fetch POSTs of the bytes the client sent for
//                        its tools/call (same URL, headers, body), after a warm-up: adds
//                        "call_overhead" {calls, body_bytes, sdk_median_us, sdk_p95_us,
//                        raw_median_us, raw_p95_us} (a benchmark figure, nothing asserted)
//   (the token may also come from the MCP_TOKEN environment variable)
//
// Prints one JSON line on stdout, as client-roundtrips.mjs does (plus "era"):
//   {"http_requests":N,"sequential_round_trips":M,"ms":T,"protocol_version":"…","era":"modern",
//    "tools":[…],"requests":[{"method","rpc","status","version"}…]}
// Exit 1 (message on stderr) on failure, 2 on bad arguments.
import { parseArgs } from 'node:util';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { recordingFetch, report } from './roundtrips-lib.mjs';

const USAGE =
  'usage: node client-roundtrips2.mjs URL [--token T] [--negotiation auto|legacy] [--cached-era] [--call TOOL --args JSON [--calls N]] [--verbose]';
let parsed;
try {
  parsed = parseArgs({
    options: {
      token: { type: 'string' },
      negotiation: { type: 'string', default: 'auto' },
      'cached-era': { type: 'boolean', default: false },
      call: { type: 'string' },
      args: { type: 'string', default: '{}' },
      calls: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
} catch (err) {
  process.stderr.write(`${err.message}\n${USAGE}\n`);
  process.exit(2);
}
const { values: opts, positionals } = parsed;
if (positionals.length !== 1 || !['auto', 'legacy'].includes(opts.negotiation)) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}
if (opts['cached-era'] && opts.negotiation !== 'auto') {
  process.stderr.write(`--cached-era needs --negotiation auto (the era verdict comes from server/discover)\n${USAGE}\n`);
  process.exit(2);
}
let url;
try {
  url = new URL(positionals[0]);
} catch {
  process.stderr.write(`invalid URL ${JSON.stringify(positionals[0].slice(0, 200))}\n${USAGE}\n`);
  process.exit(2);
}
const calls = opts.calls === undefined ? 0 : Number(opts.calls);
if (!Number.isSafeInteger(calls) || calls < 0 || calls > 1_000_000 || (calls > 0 && !opts.call)) {
  process.stderr.write(`--calls needs an integer 1..1000000 and --call TOOL\n${USAGE}\n`);
  process.exit(2);
}
let callArgs;
try {
  callArgs = JSON.parse(opts.args);
} catch {
  process.stderr.write(`--args is not valid JSON\n${USAGE}\n`);
  process.exit(2);
}
const token = opts.token ?? process.env.MCP_TOKEN;
const requestInit = token ? { headers: { Authorization: `Bearer ${token}` } } : undefined;

function newClient(fetchFn) {
  const client = new Client(
    { name: 'workboard-connect-ts2-baseline', version: '1.0.0' },
    { capabilities: {}, versionNegotiation: { mode: opts.negotiation } },
  );
  client.onerror = (err) => {
    if (opts.verbose) process.stderr.write(`client error: ${err?.message ?? err}\n`);
  };
  return { client, transport: new StreamableHTTPClientTransport(url, { fetch: fetchFn, requestInit }) };
}

/** Median and p95 (nearest rank) of microsecond samples. */
function medianP95(v) {
  v.sort((a, b) => a - b);
  return [v[Math.floor(v.length / 2)], v[Math.min(v.length, Math.max(1, Math.ceil(v.length * 0.95))) - 1]];
}

/** `calls` SDK tool calls interleaved with raw fetch POSTs of the captured bytes. */
async function callOverhead(client, sent) {
  if (!sent) throw new Error('no tools/call request was captured');
  const raw = async () => {
    const res = await fetch(sent.url, { method: 'POST', headers: sent.headers, body: sent.body });
    await res.text();
    if (!res.ok) throw new Error(`raw POST: HTTP ${res.status}`);
  };
  const sdk = async () => {
    const r = await client.callTool({ name: opts.call, arguments: callArgs });
    if (r.isError) throw new Error('tool error');
  };
  for (let i = 0; i < Math.min(50, calls); i++) {
    await raw();
    await sdk();
  }
  const ours = [];
  const base = [];
  for (let i = 0; i < calls; i++) {
    let t = performance.now();
    await raw();
    base.push((performance.now() - t) * 1000);
    t = performance.now();
    await sdk();
    ours.push((performance.now() - t) * 1000);
  }
  const [sm, sp] = medianP95(ours);
  const [rm, rp] = medianP95(base);
  const r1 = (x) => Math.round(x * 10) / 10;
  return { calls, body_bytes: Buffer.byteLength(sent.body), sdk_median_us: r1(sm), sdk_p95_us: r1(sp), raw_median_us: r1(rm), raw_p95_us: r1(rp) };
}

let exitCode = 0;
const closers = [];
try {
  let prior;
  if (opts['cached-era']) {
    const warm = newClient(fetch);
    closers.push(warm.client);
    await warm.client.connect(warm.transport);
    const discover = warm.client.getDiscoverResult();
    if (!discover) throw new Error('the server offered no discover result to cache (not a 2026-07-28 server?)');
    prior = { kind: 'modern', discover };
  }
  const recorder = recordingFetch();
  // The last tools/call the client sent, as sent (for the raw-POST baseline of --calls).
  let sentCall;
  const capturing = (input, init) => {
    if ((init?.method ?? 'GET').toUpperCase() === 'POST' && typeof init?.body === 'string' && /"method"\s*:\s*"tools\/call"/.test(init.body)) {
      sentCall = { url: String(input instanceof Request ? input.url : input), headers: [...new Headers(init.headers)], body: init.body };
    }
    return recorder.fetch(input, init);
  };
  const { client, transport } = newClient(capturing);
  closers.push(client);
  const start = performance.now();
  await client.connect(transport, prior ? { prior } : undefined);
  const { tools } = await client.listTools();
  let call;
  if (opts.call) call = await client.callTool({ name: opts.call, arguments: callArgs });
  const ms = performance.now() - start;
  await recorder.stop();
  const out = report(recorder.requests, {
    ms,
    protocolVersion: client.getNegotiatedProtocolVersion(),
    tools: tools.map((t) => t.name),
    call,
  });
  out.era = client.getProtocolEra() ?? null;
  if (calls > 0) out.call_overhead = await callOverhead(client, sentCall);
  process.stdout.write(`${JSON.stringify(out)}\n`);
} catch (err) {
  process.stderr.write(`error: ${String(err?.message ?? err).slice(0, 2000)}\n`);
  exitCode = 1;
} finally {
  for (const c of closers) await c.close().catch(() => {});
}
process.exit(exitCode);
