#!/usr/bin/env node
// Conformance adapter: drives the `workboard` CLI the way a user would, for one client scenario
// of @modelcontextprotocol/conformance.
//
// Invoked by the suite as `node workboard-adapter.mjs SERVER_URL` with
//   MCP_CONFORMANCE_SCENARIO          the scenario name,
//   MCP_CONFORMANCE_PROTOCOL_VERSION  the revision the scenario runs at (informational only: the
//                                     CLI has no option to pin a protocol version, and a user
//                                     does not pick one — the client must find the server's era),
//   MCP_CONFORMANCE_CONTEXT           JSON with scenario data (pre-registered client, tool calls…),
// and, from our runner, WORKBOARD_BIN (the CLI binary).
//
// What it does is the same for every scenario: a fresh credential store, then a short list of
// ordinary CLI commands. A scenario only chooses WHICH user-level commands run (sign in first?
// which tools to call, with which arguments?) — never flags that change the client's protocol
// behaviour, never a retry or a workaround. A command that fails is logged and the next one still
// runs (a user would try the next step too); the exit status is 1 when any command failed, so the
// suite sees a client error. Each command is bounded by a timeout.
//
// Commands the CLI may not have yet (issue 13 item 9: `resources`, `read`, `prompts`, `prompt`;
// item 5: a client-credentials sign-in, a client metadata URL) are still run where the scenario
// needs them: the CLI's own "unknown command/option" error is then the logged reason.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const COMMAND_TIMEOUT_MS = Number(process.env.WORKBOARD_ADAPTER_COMMAND_TIMEOUT_MS ?? 20000);
const MAX_OUTPUT = 256 * 1024; // per stream, per command
/** The client metadata document URL the suite's CIMD scenario expects a client to use. */
const CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';

const scenario = process.env.MCP_CONFORMANCE_SCENARIO;
const serverUrl = process.argv[2];
const bin = process.env.WORKBOARD_BIN;
if (!scenario || !serverUrl || !bin) {
  process.stderr.write('usage: WORKBOARD_BIN=… MCP_CONFORMANCE_SCENARIO=… node workboard-adapter.mjs SERVER_URL\n');
  process.exit(2);
}
let context = {};
try {
  context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}');
} catch {
  process.stderr.write('adapter: MCP_CONFORMANCE_CONTEXT is not JSON\n');
  process.exit(2);
}

const store = mkdtempSync(join(tmpdir(), 'wb-conformance-'));
// The CLI reads WORKBOARD_* settings from the environment: only what a scenario sets reaches it.
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WORKBOARD_')));
const log = (msg) => process.stderr.write(`[adapter] ${msg}\n`);
let failures = 0;

/** Runs `workboard --server URL --store FILE --json ARGS…`; resolves {code, stdout, stderr}. */
function workboard(args, { env = {}, quietLog = false, probe = false } = {}) {
  // `--step-up headless`: like `login --headless`, a step-up (403 insufficient_scope) is
  // approved by following the scenario's auto-approving authorization server.
  const argv = ['--server', serverUrl, '--store', join(store, 'credentials.json'), '--json', '--step-up', 'headless', ...args];
  return new Promise((resolve) => {
    const child = spawn(bin, argv, {
      env: { ...baseEnv, ...env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      if (stdout.length < MAX_OUTPUT) stdout += d;
    });
    child.stderr.on('data', (d) => {
      if (stderr.length < MAX_OUTPUT) stderr += d;
    });
    const timer = setTimeout(() => {
      stderr += `\n(adapter: killed after ${COMMAND_TIMEOUT_MS} ms)`;
      child.kill('SIGKILL');
    }, COMMAND_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const status = code ?? `signal ${signal}`;
      if (status !== 0 && !probe) failures++;
      if (!quietLog || status !== 0) {
        log(`$ workboard ${args.join(' ')}  → exit ${status}`);
        if (stdout.trim()) log(`  stdout: ${stdout.trim().slice(0, 2000)}`);
        if (stderr.trim()) log(`  stderr: ${stderr.trim().slice(0, 2000)}`);
      }
      resolve({ code: status, stdout, stderr });
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      failures++;
      log(`$ workboard ${args.join(' ')}  → could not start: ${err.message}`);
      resolve({ code: -1, stdout: '', stderr: err.message });
    });
  });
}

/** The error code of a failed `--json` command's output, or null. */
function parseError(text) {
  try {
    return JSON.parse(text)?.error?.code ?? null;
  } catch {
    return null;
  }
}

/** The `result` of a `--json` command's output (`{"ok":true,"result":…}`), or null. */
function parseJson(text) {
  try {
    return JSON.parse(text)?.result ?? null;
  } catch {
    return null;
  }
}

/** `workboard tools`: the listed tool names (empty when the command failed). */
async function tools() {
  const r = await workboard(['tools']);
  const names = parseJson(r.stdout)?.tools?.map((t) => t.name) ?? [];
  return names.filter((n) => typeof n === 'string');
}
const call = (name, args = {}, opts) => workboard(['call', name, '--args', JSON.stringify(args)], opts);

/** Whether `workboard SUBCOMMAND --help` mentions OPTION (for options a user would pass if offered). */
async function offers(subcommand, option) {
  const r = await workboard([...subcommand, '--help'], { quietLog: true, probe: true });
  return r.code === 0 && r.stdout.includes(option);
}

/** `workboard login --flow mcp --headless`: the authorization server of these scenarios approves at once. */
async function login() {
  const args = ['login', '--flow', 'mcp', '--headless'];
  const env = {};
  if (context.client_id && context.client_secret) {
    // A pre-registered client: the id on the command line, the secret only in the environment
    // (named with --client-secret-env: this server's secret, not a WorkBoard Client Hash).
    args.push('--client-id', context.client_id, '--client-secret-env', 'CONFORMANCE_CLIENT_SECRET');
    env.CONFORMANCE_CLIENT_SECRET = context.client_secret;
  }
  // A user with a client metadata document (CIMD) passes its URL, when the CLI takes one.
  if (await offers(['login'], '--client-metadata-url')) args.push('--client-metadata-url', CLIENT_METADATA_URL);
  return workboard(args, { env });
}

/** A service signing in with OAuth client credentials (the auth extension). */
async function loginClientCredentials() {
  const args = ['login', '--flow', 'client-credentials', '--client-id', String(context.client_id ?? '')];
  const env = {};
  if (context.client_secret) {
    args.push('--client-secret-env', 'CONFORMANCE_CLIENT_SECRET');
    env.CONFORMANCE_CLIENT_SECRET = context.client_secret;
  }
  if (context.private_key_pem) {
    // The signing algorithm follows from the key (ES256 for P-256, RS256 for RSA).
    const keyFile = join(store, 'client-key.pem');
    writeFileSync(keyFile, context.private_key_pem, { mode: 0o600 });
    args.push('--private-key', keyFile);
  }
  return workboard(args, { env });
}

/** Elicitation answers for `call`, given the way the CLI takes them (`--input FILE`), if it does. */
async function callWithAnswers(name, answers) {
  if (await offers(['call'], '--input')) {
    const file = join(store, 'input.json');
    writeFileSync(file, JSON.stringify(answers));
    return workboard(['call', name, '--args', '{}', '--input', file]);
  }
  return call(name);
}

// Which user-level commands each scenario runs. Every auth scenario: sign in, list, call the
// server's tool (the sign-in is expected to fail in the negative ones; the suite allows that).
const OAUTH_SCENARIOS = /^auth\/(metadata-|basic-cimd|scope-|token-endpoint-auth-|pre-registration|resource-mismatch|offline-access-|authorization-server-migration|iss-|2025-03-26-)/;
const plans = {
  initialize: async () => {
    await tools();
  },
  tools_call: async () => {
    if ((await tools()).includes('add_numbers')) await call('add_numbers', { a: 5, b: 3 });
  },
  'request-metadata': async () => {
    await tools();
  },
  'json-schema-ref-no-deref': async () => {
    await tools();
  },
  'sse-retry': async () => {
    await tools();
    await call('test_reconnection');
  },
  'elicitation-sep1034-client-defaults': async () => {
    await tools();
    // The user accepts the form without typing anything: the defaults apply.
    await callWithAnswers('test_client_elicitation_defaults', { action: 'accept', content: {} });
  },
  'http-standard-headers': async () => {
    const [tool] = await tools();
    if (tool) await call(tool);
    const resources = parseJson((await workboard(['resources'])).stdout)?.resources ?? [];
    if (resources[0]?.uri) await workboard(['read', resources[0].uri]);
    const prompts = parseJson((await workboard(['prompts'])).stdout)?.prompts ?? [];
    if (prompts[0]?.name) await workboard(['prompt', prompts[0].name, '--args', '{}']);
  },
  'http-custom-headers': async () => {
    await tools();
    for (const c of context.toolCalls ?? []) await call(c.name, c.arguments ?? {});
  },
  'http-invalid-tool-headers': async () => {
    // Call every tool the CLI lists (a correct client lists only the valid one).
    for (const name of await tools()) await call(name, { region: 'us-west1' });
  },
  'sep-2322-client-request-state': async () => {
    await tools();
    const confirm = { action: 'accept', content: { confirmed: true } };
    for (const name of ['test_mrtr_echo_state', 'test_mrtr_no_state', 'test_mrtr_unrelated', 'test_mrtr_no_result_type']) {
      await callWithAnswers(name, confirm);
    }
  },
  'auth/client-credentials-basic': async () => {
    if ((await loginClientCredentials()).code === 0) await tools();
  },
  'auth/client-credentials-jwt': async () => {
    if ((await loginClientCredentials()).code === 0) await tools();
  },
};

let plan = plans[scenario];
if (!plan && OAUTH_SCENARIOS.test(scenario)) {
  plan = async () => {
    if ((await login()).code !== 0) return;
    const names = await tools();
    for (const name of names.length ? names : ['test-tool']) {
      // What a user does when the CLI says the sign-in is no longer accepted ("Sign in to
      // this server again"): `login`, then the same command once more.
      const r = await call(name, {}, { quietLog: false });
      if (r.code !== 0 && parseError(r.stdout) === 'unauthorized') {
        failures--; // the retried command decides
        if ((await login()).code === 0) await call(name);
      }
    }
  };
}
if (!plan) {
  log(`no plan for scenario ${scenario}`);
  process.exit(2);
}
log(`scenario ${scenario} at ${process.env.MCP_CONFORMANCE_PROTOCOL_VERSION ?? '?'}: ${serverUrl}`);
try {
  await plan();
} catch (err) {
  failures++;
  log(`adapter error: ${err?.stack ?? err}`);
} finally {
  rmSync(store, { recursive: true, force: true });
}
process.exit(failures > 0 ? 1 : 0);
