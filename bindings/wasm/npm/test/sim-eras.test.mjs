// The whole MCP surface of the package against workboard-sim on 127.0.0.1, in both eras
// (`--era modern`: 2026-07-28 only; `--era legacy`: sessions only), event-stream responses:
// discover, ping, connect, tools, an elicitation answered by the app's handler (MRTR in the
// modern era, a server request on the call's stream in the legacy one), sampling, resources,
// prompts, completion, a subscription fed by the simulator's notify endpoint, the log messages
// of a call (modern) on `notifications()`, cancellation and close.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
// WORKBOARD_ENTRY: the entry under test (test.sh runs this suite on `token-node.js` too).
const { WorkboardClient } = await import(process.env.WORKBOARD_ENTRY ?? '../node.js');
import { startSim } from './support/sim.mjs';

// A bound, not a timed assertion: a regression that leaves an iteration waiting fails the
// test instead of hanging the run.
const GUARD = { timeout: 60_000 };

const TOKEN = 'wbp_wasm_eras_token';
const sims = {};

before(async () => {
  for (const era of ['modern', 'legacy']) {
    sims[era] = await startSim(['--era', era, '--sse', '--seed-personal-token', TOKEN, '--listen-max-secs', '30']);
  }
});
after(async () => {
  for (const s of Object.values(sims)) await s.stop();
});

async function sim(era, path, body) {
  const r = await fetch(`${sims[era].url}/__sim/${path}`, body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(r.status, 200);
  return r.json();
}

/** Waits (event-based, bounded) until the simulator's counter reaches `n`. */
async function counter(era, name, n) {
  for (let i = 0; i < 200; i++) {
    const { counters } = await sim(era, 'stats');
    if ((counters[name] ?? 0) >= n) return counters[name];
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`${era}: counter ${name} never reached ${n}`);
}

for (const era of ['modern', 'legacy']) {
  test(`${era} era: discover, connect, ping, tools, resources, prompts, completion`, GUARD, async () => {
    const c = new WorkboardClient({ environment: sims[era].url, token: TOKEN });
    const d = await c.discover();
    assert.equal(d.modern, era === 'modern');
    assert.equal(d.protocolVersion, era === 'modern' ? '2026-07-28' : '2025-11-25');
    assert.equal(typeof d.capabilities, 'object');
    const info = await c.connect();
    assert.equal(typeof info?.name, 'string');
    await c.ping();
    const tools = await c.listTools();
    assert.ok(tools.some((t) => t.name === 'draft_check_in'));
    assert.match((await c.callTool('get_current_user', {})).content[0].text, /ada@example\.com/);
    const resources = await c.listResources();
    const goal = resources.find((r) => r.uri.startsWith('workboard://goal/'));
    assert.ok(goal, JSON.stringify(resources.slice(0, 3)));
    const contents = await c.readResource(goal.uri);
    assert.equal(contents[0].uri, goal.uri);
    assert.ok((contents[0].text ?? '').length > 0);
    await assert.rejects(c.readResource('workboard://goal/999999'), (e) => e.name === 'WorkboardError' && e.code === 'jsonrpc_error');
    const templates = await c.listResourceTemplates();
    const goalTemplate = templates.find((t) => t.uriTemplate === 'workboard://goal/{goal_id}');
    assert.ok(goalTemplate, JSON.stringify(templates));
    const prompts = await c.listPrompts();
    assert.deepEqual(prompts.map((p) => p.name).sort(), ['objective_review', 'weekly_update']);
    const prompt = await c.getPrompt('weekly_update', { team: 'Platform' });
    assert.ok(prompt.messages.length > 0);
    assert.match(JSON.stringify(prompt.messages[0].content), /Platform/);
    const completion = await c.complete({ type: 'ref/prompt', name: 'weekly_update' }, 'team', 'Pl');
    assert.ok(completion.values.length > 0, JSON.stringify(completion));
    assert.ok(completion.values.every((v) => v.toLowerCase().startsWith('pl')), JSON.stringify(completion));
    const byTemplate = await c.complete({ type: 'ref/resource', uri: goalTemplate.uriTemplate }, 'goal_id', '3');
    assert.ok(byTemplate.values.length > 0 && byTemplate.values.every((v) => v.startsWith('3')), JSON.stringify(byTemplate));
    // A call cancelled by its signal, and the client still works.
    const ac = new AbortController();
    const cancelled = c.listResources({ signal: ac.signal });
    ac.abort();
    await assert.rejects(cancelled, (e) => e.code === 'cancelled');
    assert.ok((await c.listPrompts()).length === 2);
    await c.close();
    await assert.rejects(c.discover(), (e) => e.code === 'client_stopped');
  });

  test(`${era} era: a tool asks for input — the app's elicitation and sampling handlers answer`, GUARD, async () => {
    const asked = [];
    const c = new WorkboardClient({
      environment: sims[era].url,
      token: TOKEN,
      inputHandlers: {
        elicitation: async (request) => {
          asked.push(request);
          assert.ok(request.requestedSchema.properties.confidence);
          return { action: 'accept', content: { confidence: 9, note: `from ${era}` } };
        },
        sampling: async (request) => {
          asked.push(request);
          return { role: 'assistant', content: { type: 'text', text: 'Reach 99.99% availability' }, model: 'test-llm' };
        },
      },
    });
    const before = (await sim(era, 'stats')).counters;
    const r = await c.callTool('draft_check_in', { key_result_id: 401 });
    assert.equal(r.isError, false, JSON.stringify(r));
    assert.equal(r.structuredContent.confidence, 9);
    assert.equal(r.structuredContent.note, `from ${era}`);
    assert.match(asked[0].message, /how confident/);
    const s = await c.callTool('suggest_key_result', { objective_id: 301 });
    assert.equal(s.structuredContent.suggestion, 'Reach 99.99% availability');
    assert.equal(s.structuredContent.model, 'test-llm');
    assert.equal(asked.length, 2);
    const after = (await sim(era, 'stats')).counters;
    if (era === 'modern') {
      assert.equal((after['mcp:input_completed'] ?? 0) - (before['mcp:input_completed'] ?? 0), 2);
    } else {
      assert.equal((after['mcp:client_response'] ?? 0) - (before['mcp:client_response'] ?? 0), 2);
    }
    // Declined: the tool says so; without a handler the server is never asked.
    const declining = new WorkboardClient({ environment: sims[era].url, token: TOKEN, inputHandlers: { elicitation: () => ({ action: 'decline' }) } });
    const declined = await declining.callTool('draft_check_in', { key_result_id: 401 });
    assert.equal(declined.structuredContent.action, 'decline');
    const none = new WorkboardClient({ environment: sims[era].url, token: TOKEN });
    const refused = await none.callTool('draft_check_in', { key_result_id: 401 }).then((v) => v, (e) => e);
    // Modern: -32021 (the capability is missing); legacy: a tool error.
    assert.ok(refused.code === 'jsonrpc_error' || refused.isError === true, JSON.stringify(refused));
    await Promise.all([c.close(), declining.close(), none.close()]);
  });

  test(`${era} era: a subscription hears the changes the server announces; break closes it`, GUARD, async () => {
    const c = new WorkboardClient({ environment: sims[era].url, token: TOKEN });
    const opened = era === 'modern' ? 'mcp:listen:open' : 'mcp:get_stream:open';
    const base = (await sim(era, 'stats')).counters[opened] ?? 0;
    const sub = c.subscribe({ toolsListChanged: true, resourceSubscriptions: ['workboard://goal/301'] });
    const got = [];
    const reading = (async () => {
      for await (const n of sub) {
        got.push(n.method === 'notifications/resources/updated' ? `${n.method} ${n.params.uri}` : n.method);
        if (n.method === 'notifications/resources/updated') break;
      }
    })();
    await counter(era, opened, base + 1);
    if (era === 'legacy') await counter(era, 'mcp:resources/subscribe', 1);
    await sim(era, 'notify', { tools_list_changed: true });
    await sim(era, 'notify', { resource_updated: 'workboard://goal/301' });
    await reading;
    const expected = ['notifications/tools/list_changed', 'notifications/resources/updated workboard://goal/301'];
    if (era === 'modern') expected.unshift('notifications/subscriptions/acknowledged');
    assert.deepEqual(got, expected);
    await assert.rejects(sub.ended, (e) => e.code === 'cancelled');
    if (era === 'modern') await counter(era, 'mcp:listen:closed', 1);
    await c.close();
  });
}

test('modern era: a call\'s log messages arrive on notifications(), which ends with close()', GUARD, async () => {
  const c = new WorkboardClient({ environment: sims.modern.url, token: TOKEN, logLevel: 'debug' });
  const notes = c.notifications();
  const r = await c.callTool('get_current_user', {});
  assert.match(r.content[0].text, /ada@example\.com/);
  const closing = c.close();
  const got = [];
  for await (const n of notes) got.push(n);
  await closing;
  assert.ok(got.length >= 1, 'log messages of the call');
  assert.ok(got.every((n) => n.method === 'notifications/message' && ['debug', 'info'].includes(n.params.level)), JSON.stringify(got));
});
