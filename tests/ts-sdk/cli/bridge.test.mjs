// `workboard bridge` driven by the official TypeScript SDK's stdio clients, as an AI client
// drives it: the 2.x client (@modelcontextprotocol/client 2.4, StdioClientTransport, version
// negotiation `auto`: server/discover, then 2026-07-28) and the 1.x client
// (@modelcontextprotocol/sdk 1.32, `initialize`), against the SDK 2.x server (server2.mjs) in
// its modern-only and dual modes, the bridge speaking either era upstream (`--era`), and
// against the WorkBoard simulator (`workboard sim`). Each case lists tools, calls one, reads a
// resource, gets a prompt and answers an elicitation through the stdio client's handler.
//
// Run: WORKBOARD_BIN=/path/to/workboard node --test cli/   (../cli-test.sh builds it)
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as Client2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as Stdio2 } from '@modelcontextprotocol/client/stdio';
import { Client as Client1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as Stdio1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startServer } from './server2-lib.mjs';

const BIN = process.env.WORKBOARD_BIN;
const TOKEN = 'bridge-peer-token-456';
const STEP_MS = 20000;

/** The environment a bridge runs in: none of the machine's WORKBOARD_* settings. */
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WORKBOARD_')));
}

/** Runs `workboard ARGS` to its end with `stdin`; resolves {code, stdout, stderr}. */
function run(args, stdin = '') {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
    const timer = setTimeout(() => child.kill('SIGKILL'), STEP_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `workboard sim --port 0`: its base URL, and a stop function. */
async function startSim() {
  const child = spawn(BIN, ['--json', 'sim', '--port', '0'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
  const [first] = await once(lines, 'line');
  clearTimeout(timer);
  const base = JSON.parse(first).result.listening;
  return {
    base,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(kill);
    },
  };
}

/** Bounds a step: a hang fails the test instead of stalling the suite. */
function bounded(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${STEP_MS} ms`)), STEP_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A connected SDK client (`sdk`: 1 or 2) on a new bridge process with `target` args. */
async function connect(sdk, target, store, elicited) {
  const params = { command: BIN, args: [...target, '--store', store, 'bridge'], env: cleanEnv(), stderr: 'pipe' };
  let client;
  let transport;
  if (sdk === 2) {
    transport = new Stdio2(params);
    client = new Client2(
      { name: 'bridge-test-2x', version: '1.0.0' },
      { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: 'auto' } },
    );
    client.setRequestHandler('elicitation/create', async (req) => {
      elicited.push(req.params.message);
      return { action: 'accept', content: { confirm: true } };
    });
  } else {
    transport = new Stdio1(params);
    client = new Client1({ name: 'bridge-test-1x', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      elicited.push(req.params.message);
      return { action: 'accept', content: { confirm: true } };
    });
  }
  let stderr = '';
  transport.stderr?.on('data', (d) => (stderr += d));
  await bounded(client.connect(transport), 'connect');
  return { client, stderr: () => stderr };
}

const texts = (r) => (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');

/** Every tool, page after page (the bridge forwards `nextCursor` as the server sent it). */
async function allTools(client) {
  const tools = [];
  let cursor;
  for (let page = 0; page < 50; page += 1) {
    const r = await bounded(client.listTools(cursor ? { cursor } : {}), 'tools/list');
    tools.push(...r.tools);
    cursor = r.nextCursor;
    if (!cursor) return tools;
  }
  throw new Error('more than 50 pages of tools');
}

// The TypeScript SDK 2.x server, modern-only and dual; the bridge speaks it in the era asked.
// Its dual mode serves the 2025 era statelessly (no session), so it cannot send a legacy
// client a server request: there its `confirm` tool reports that elicitation is unsupported,
// and the legacy-era elicitation runs against the simulator below (legacy sessions).
const cases = [
  { mode: 'modern', era: 'auto', elicits: true },
  { mode: 'dual', era: 'legacy', elicits: false },
];
for (const { mode, era, elicits } of cases) {
  describe(`bridge → server2.mjs --mode ${mode} (bridge --era ${era})`, () => {
    let srv;
    let store;
    before(async () => {
      assert.ok(BIN, 'WORKBOARD_BIN must name the workboard binary (cli-test.sh builds it)');
      srv = await startServer(['--mode', mode, '--token', TOKEN]);
      const dir = mkdtempSync(join(tmpdir(), `wb-bridge-${mode}-`));
      store = join(dir, 'credentials.json');
      const set = await run(['--server', srv.url, '--store', store, 'token', 'set'], `${TOKEN}\n`);
      assert.equal(set.code, 0, set.stderr);
    });
    after(async () => {
      await srv?.stop();
      if (store) rmSync(join(store, '..'), { recursive: true, force: true });
    });

    for (const sdk of [2, 1]) {
      test(`the ${sdk}.x stdio client: tools, a call, a resource, a prompt, an elicitation`, async () => {
        const elicited = [];
        const { client, stderr } = await connect(sdk, ['--server', srv.url, '--era', era], store, elicited);
        try {
          const tools = await allTools(client);
          assert.deepEqual(tools.map((t) => t.name).sort(), ['add', 'confirm', 'echo', 'fail', 'route']);
          const add = await bounded(client.callTool({ name: 'add', arguments: { a: 2, b: 40 } }), 'tools/call');
          assert.deepEqual(add.structuredContent, { sum: 42 });
          // x-mcp-header: the bridge's connection mirrors `region` for a modern server.
          const route = await bounded(client.callTool({ name: 'route', arguments: { region: 'eu', query: 'q' } }), 'route');
          assert.equal(texts(route), 'routed to eu: q');
          const read = await bounded(client.readResource({ uri: 'note://readme' }), 'resources/read');
          assert.equal(read.contents[0].text, 'hello from the TypeScript SDK 2.x peer');
          const prompt = await bounded(client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } }), 'prompts/get');
          assert.match(prompt.messages[0].content.text, /Ada/);
          const confirmed = await bounded(client.callTool({ name: 'confirm', arguments: { action: 'deploy' } }), 'confirm');
          if (elicits) {
            assert.equal(texts(confirmed), 'confirmed deploy', stderr());
            assert.deepEqual(elicited, ['Confirm deploy?'], 'the stdio client answered the form');
          } else {
            assert.equal(texts(confirmed), 'Client does not support form elicitation.', stderr());
            assert.deepEqual(elicited, []);
          }
        } finally {
          await client.close();
        }
        assert.ok(!stderr().includes(TOKEN), 'the token stays out of the logs');
        assert.ok(!stderr().includes('panicked'), stderr());
      });
    }
  });
}

for (const era of ['auto', 'legacy']) describe(`bridge → the WorkBoard simulator (workboard sim, bridge --era ${era})`, () => {
  let sim;
  let store;
  before(async () => {
    assert.ok(BIN, 'WORKBOARD_BIN must name the workboard binary (cli-test.sh builds it)');
    sim = await startSim();
    const dir = mkdtempSync(join(tmpdir(), 'wb-bridge-sim-'));
    store = join(dir, 'credentials.json');
    const set = await run(['--env', sim.base, '--store', store, 'token', 'set'], 'wbp_demo_personal_token\n');
    assert.equal(set.code, 0, set.stderr);
  });
  after(async () => {
    await sim?.stop();
    if (store) rmSync(join(store, '..'), { recursive: true, force: true });
  });
  for (const sdk of [2, 1]) {
    test(`the ${sdk}.x stdio client lists and calls WorkBoard tools and answers a check-in form`, async () => {
      const elicited = [];
      const { client, stderr } = await connect(sdk, ['--env', sim.base, '--era', era], store, elicited);
      // The simulator's form asks for a confidence and a note: answer what it asks.
      client.setRequestHandler(sdk === 2 ? 'elicitation/create' : ElicitRequestSchema, async (req) => {
        elicited.push(req.params.message);
        return { action: 'accept', content: { confidence: 8, note: 'via the bridge' } };
      });
      try {
        const tools = await allTools(client);
        assert.ok(tools.some((t) => t.name === 'draft_check_in'), JSON.stringify(tools.map((t) => t.name)));
        const teams = await bounded(client.callTool({ name: 'list_teams', arguments: {} }), 'list_teams');
        assert.ok(!teams.isError, JSON.stringify(teams));
        const { resources } = await bounded(client.listResources(), 'resources/list');
        const read = await bounded(client.readResource({ uri: resources[0].uri }), 'resources/read');
        assert.equal(read.contents[0].uri, resources[0].uri);
        const draft = await bounded(client.callTool({ name: 'draft_check_in', arguments: { key_result_id: 401 } }), 'draft_check_in');
        assert.match(texts(draft), /confidence 8\/10/, stderr());
        assert.equal(elicited.length, 1);
      } finally {
        await client.close();
      }
      assert.ok(!stderr().includes('wbp_demo_personal_token'), 'the token stays out of the logs');
    });
  }
});
