#!/usr/bin/env node
// Baseline: how many HTTP requests / sequential round trips the official
// TypeScript MCP SDK client needs to connect and list tools.
//
// Usage: node client-roundtrips.mjs URL [--token T] [--call TOOL --args JSON] [--verbose]
//   (the token may also come from the MCP_TOKEN environment variable)
//
// Prints one JSON line on stdout:
//   {"http_requests":N,"sequential_round_trips":M,"ms":T,"tools":[...],"requests":[...]}
// http_requests: every fetch the SDK transport made, from connect() until
//   listTools() (and the optional call) resolved — including the standalone
//   GET SSE stream the client opens after `notifications/initialized`.
// sequential_round_trips: length of the longest chain of requests in which
//   each request started only after the previous one's response (headers)
//   had arrived — the latency-bound part of the exchange.
// ms: wall time from connect() to the last awaited result.
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { recordingFetch, report } from './roundtrips-lib.mjs';

const USAGE = 'usage: node client-roundtrips.mjs URL [--token T] [--call TOOL --args JSON] [--verbose]';
let parsed;
try {
  parsed = parseArgs({
    options: {
      token: { type: 'string' },
      call: { type: 'string' },
      args: { type: 'string', default: '{}' },
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
if (positionals.length !== 1) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}
let url;
try {
  url = new URL(positionals[0]);
} catch {
  process.stderr.write(`invalid URL ${JSON.stringify(positionals[0])}\n${USAGE}\n`);
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

const recorder = recordingFetch();

const transport = new StreamableHTTPClientTransport(url, {
  fetch: recorder.fetch,
  requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : undefined,
});
const client = new Client({ name: 'workboard-connect-ts-baseline', version: '1.0.0' });
client.onerror = (err) => {
  if (opts.verbose) process.stderr.write(`client error: ${err?.message ?? err}\n`);
};

let exitCode = 0;
try {
  const start = performance.now();
  await client.connect(transport);
  const { tools } = await client.listTools();
  let call;
  if (opts.call) call = await client.callTool({ name: opts.call, arguments: callArgs });
  const ms = performance.now() - start;
  await recorder.stop();
  const out = report(recorder.requests, {
    ms,
    protocolVersion: transport.protocolVersion,
    tools: tools.map((t) => t.name),
    call,
  });
  process.stdout.write(`${JSON.stringify(out)}\n`);
} catch (err) {
  process.stderr.write(`error: ${err?.message ?? err}\n`);
  exitCode = 1;
} finally {
  await client.close().catch(() => {});
}
process.exit(exitCode);
