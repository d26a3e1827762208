// The workboard CLI against the TypeScript SDK 2.x server (server2.mjs), modern-only and
// dual-era: real user flows, asserting the behaviour MCP 2026-07-28 asks of a client.
//
// Run: WORKBOARD_BIN=/path/to/workboard node --test cli/   (or ../cli-test.sh, which builds it;
// ../test.sh runs it after the peer's self-tests, so it is part of scripts/test.sh)
//
// They assert the behaviour a 2026-07-28 client owes a modern server (no `initialize`, the era
// reused from the store, x-mcp-header mirroring, MRTR elicitation), through the CLI's own
// commands: `tools`, `call NAME --args JSON [--input FILE]`, `resources`, `read URI`,
// `prompts`, `prompt NAME --args JSON`, `complete prompt:NAME ARG VALUE`, `doctor`, `--era`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './server2-lib.mjs';

const BIN = process.env.WORKBOARD_BIN;
const TOKEN = 'peer2-token-123';
const COMMAND_TIMEOUT_MS = 20000;

/** Runs the CLI with --json; resolves {code, json, stdout, stderr}. Bounded by COMMAND_TIMEOUT_MS. */
function workboard(srv, store, args, { stdin = '', env = {} } = {}) {
  assert.ok(BIN, 'WORKBOARD_BIN must name the workboard binary (cli-test.sh builds it)');
  return new Promise((resolve) => {
    const child = spawn(BIN, ['--server', srv.url, '--store', join(store, 'credentials.json'), '--json', ...args], {
      // The machine's WORKBOARD_* settings (server, store, era...) must not change the run.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WORKBOARD_'))), NO_COLOR: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // A command that exits before reading its stdin closes the pipe: EPIPE here is not a
    // failure of the command (its exit status and output are what the tests assert).
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, COMMAND_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      let json = null;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* not JSON */
      }
      resolve({ code, json, stdout, stderr, timedOut });
    });
  });
}

const show = (r) => `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}\nstdout: ${r.stdout.slice(0, 1500)}\nstderr: ${r.stderr.slice(0, 1500)}`;
const text = (r) => (r.json?.result?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');

for (const mode of ['modern', 'dual']) {
  describe(`workboard CLI against server2.mjs --mode ${mode} (TypeScript SDK 2.4)`, () => {
    let srv;
    let store;
    before(async () => {
      srv = await startServer(['--mode', mode, '--token', TOKEN]);
      store = mkdtempSync(join(tmpdir(), `wb-peer2-${mode}-`));
      const set = await workboard(srv, store, ['token', 'set'], { stdin: `${TOKEN}\n` });
      assert.equal(set.code, 0, show(set));
    });
    after(async () => {
      await srv?.stop();
      if (store) rmSync(store, { recursive: true, force: true });
    });

    test('tools lists the server tools, over 2026-07-28 without initialize', async () => {
      await srv.stats(true);
      const r = await workboard(srv, store, ['tools']);
      assert.equal(r.code, 0, show(r));
      const names = r.json.result.tools.map((t) => t.name).sort();
      assert.deepEqual(names, ['add', 'confirm', 'echo', 'fail', 'route']);
      const stats = await srv.stats();
      // A dual-era client tries the modern era first; both modes of this server speak it.
      assert.equal(stats.rpc.initialize, undefined, `initialize sent: ${JSON.stringify(stats)}`);
      assert.ok(stats.versions['2026-07-28'] >= 1, `no request carried MCP-Protocol-Version 2026-07-28: ${JSON.stringify(stats)}`);
    });

    test('a second run reuses the era found by the first (no server/discover, no initialize)', async () => {
      const first = await workboard(srv, store, ['tools']);
      assert.equal(first.code, 0, show(first));
      await srv.stats(true);
      const second = await workboard(srv, store, ['tools']);
      assert.equal(second.code, 0, show(second));
      const stats = await srv.stats();
      assert.equal(stats.rpc['server/discover'], undefined, JSON.stringify(stats));
      assert.equal(stats.rpc.initialize, undefined, JSON.stringify(stats));
      assert.ok(stats.POST <= 1, `more than tools/list was sent: ${JSON.stringify(stats)}`);
    });

    test('call add returns structuredContent', async () => {
      const r = await workboard(srv, store, ['call', 'add', '--args', '{"a":2,"b":40}']);
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(r.json.result.structuredContent, { sum: 42 });
      assert.equal(text(r), '42');
    });

    test('call echo round-trips non-ASCII text', async () => {
      const r = await workboard(srv, store, ['call', 'echo', '--args', JSON.stringify({ text: 'héllo, 世界' })]);
      assert.equal(r.code, 0, show(r));
      assert.equal(text(r), 'héllo, 世界');
    });

    test('a tool error is reported as one (non-zero exit, tool_error)', async () => {
      const r = await workboard(srv, store, ['call', 'fail', '--args', '{"message":"nope"}']);
      assert.notEqual(r.code, 0, show(r));
      assert.equal(r.json?.error?.code, 'tool_error', show(r));
    });

    test('call route: the x-mcp-header argument is mirrored (the server checks Mcp-Param-Region)', async () => {
      const r = await workboard(srv, store, ['call', 'route', '--args', JSON.stringify({ region: 'us-west1', query: 'q' })]);
      assert.equal(r.code, 0, show(r));
      assert.equal(text(r), 'routed to us-west1: q');
    });

    test('call route with a value that needs the Base64 sentinel', async () => {
      const r = await workboard(srv, store, ['call', 'route', '--args', JSON.stringify({ region: ' Zürich\n' })]);
      assert.equal(r.code, 0, show(r));
      assert.equal(text(r), 'routed to  Zürich\n');
    });

    test('an unknown tool is an error, not a hang', async () => {
      const r = await workboard(srv, store, ['call', 'no_such_tool']);
      assert.equal(r.timedOut, false, show(r));
      assert.notEqual(r.code, 0, show(r));
      assert.match(JSON.stringify(r.json?.error ?? r.json?.result ?? ''), /no_such_tool/, show(r));
    });

    test('resources lists note://readme and read returns its text', async () => {
      const list = await workboard(srv, store, ['resources']);
      assert.equal(list.code, 0, show(list));
      assert.ok(JSON.stringify(list.json.result).includes('note://readme'), show(list));
      const read = await workboard(srv, store, ['read', 'note://readme']);
      assert.equal(read.code, 0, show(read));
      assert.ok(JSON.stringify(read.json.result).includes('hello from the TypeScript SDK 2.x peer'), show(read));
    });

    test('prompts lists greet and prompt fills in its argument', async () => {
      const list = await workboard(srv, store, ['prompts']);
      assert.equal(list.code, 0, show(list));
      assert.ok(JSON.stringify(list.json.result).includes('greet'), show(list));
      const got = await workboard(srv, store, ['prompt', 'greet', '--args', '{"name":"Ann"}']);
      assert.equal(got.code, 0, show(got));
      assert.ok(JSON.stringify(got.json.result).includes('Say hello to Ann.'), show(got));
    });

    test('complete suggests the prompt argument values that match what was typed', async () => {
      const r = await workboard(srv, store, ['complete', 'prompt:greet', 'name', 'An']);
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(r.json.result.values, ['Ann', 'Anna'], show(r));
      const none = await workboard(srv, store, ['complete', 'prompt:greet', 'name', 'Z']);
      assert.equal(none.code, 0, show(none));
      assert.deepEqual(none.json.result.values, [], show(none));
    });

    test('elicitation (input_required) answered from --input', async () => {
      const input = join(store, 'answers.json');
      writeFileSync(input, JSON.stringify({ confirm: true }));
      const r = await workboard(srv, store, ['call', 'confirm', '--args', '{"action":"deploy"}', '--input', input]);
      assert.equal(r.code, 0, show(r));
      assert.equal(text(r), 'confirmed deploy');
    });

    test('elicitation with nobody to answer fails promptly with an error, never hangs', async () => {
      // stdin is a pipe (not a terminal) and no --input: the CLI cannot ask anyone.
      const r = await workboard(srv, store, ['call', 'confirm', '--args', '{"action":"deploy"}']);
      assert.equal(r.timedOut, false, show(r));
      assert.notEqual(r.code, 0, show(r));
      assert.match(r.json?.error?.message ?? '', /elicit|input/i, show(r));
    });

    test('without the token the CLI says it is not signed in', async () => {
      const empty = mkdtempSync(join(tmpdir(), 'wb-peer2-empty-'));
      try {
        const r = await workboard(srv, empty, ['tools']);
        assert.notEqual(r.code, 0, show(r));
        assert.equal(r.json?.error?.code, 'not_signed_in', show(r));
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    });

    test('doctor is healthy and names the era and the versions the server speaks', async () => {
      const r = await workboard(srv, store, ['doctor']);
      assert.equal(r.code, 0, show(r));
      assert.ok(r.stdout.includes('2026-07-28'), show(r));
    });
  });
}

describe('workboard CLI against server2.mjs --mode modern, no token', () => {
  test('a server that needs no sign-in is used without one', async () => {
    const srv = await startServer(['--mode', 'modern']);
    const store = mkdtempSync(join(tmpdir(), 'wb-peer2-open-'));
    try {
      const r = await workboard(srv, store, ['call', 'add', '--args', '{"a":1,"b":1}']);
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(r.json.result.structuredContent, { sum: 2 });
    } finally {
      await srv.stop();
      rmSync(store, { recursive: true, force: true });
    }
  });
});

describe('workboard CLI --era legacy against server2.mjs', () => {
  test('dual mode: --era legacy speaks initialize (2025-era) and works', async () => {
    const srv = await startServer(['--mode', 'dual', '--token', TOKEN]);
    const store = mkdtempSync(join(tmpdir(), 'wb-peer2-legacy-'));
    try {
      const set = await workboard(srv, store, ['token', 'set'], { stdin: `${TOKEN}\n` });
      assert.equal(set.code, 0, show(set));
      await srv.stats(true);
      const r = await workboard(srv, store, ['--era', 'legacy', 'call', 'add', '--args', '{"a":3,"b":4}']);
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(r.json.result.structuredContent, { sum: 7 });
      const stats = await srv.stats();
      assert.equal(stats.rpc.initialize, 1, JSON.stringify(stats));
      assert.equal(stats.versions['2026-07-28'], undefined, JSON.stringify(stats));
    } finally {
      await srv.stop();
      rmSync(store, { recursive: true, force: true });
    }
  });

  test('modern mode: --era legacy fails with an error naming the versions the server speaks', async () => {
    const srv = await startServer(['--mode', 'modern', '--token', TOKEN]);
    const store = mkdtempSync(join(tmpdir(), 'wb-peer2-legacy-'));
    try {
      const set = await workboard(srv, store, ['token', 'set'], { stdin: `${TOKEN}\n` });
      assert.equal(set.code, 0, show(set));
      const r = await workboard(srv, store, ['--era', 'legacy', 'tools']);
      assert.equal(r.timedOut, false, show(r));
      assert.notEqual(r.code, 0, show(r));
      assert.match(JSON.stringify(r.json?.error ?? ''), /2026-07-28/, show(r));
      const stats = await srv.stats();
      assert.equal(stats.rpc['tools/list'], undefined, JSON.stringify(stats));
    } finally {
      await srv.stop();
      rmSync(store, { recursive: true, force: true });
    }
  });
});
