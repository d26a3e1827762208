// The "Connect WorkBoard" page: every flow step is a call into the workboard-connect package.
// Settings come from the query string (?wb=<base URL>&mode=oauth21|v1|token&client_id=...)
// or the form, and are kept in sessionStorage across the round trip to the consent page.
import { WorkboardClient } from 'workboard-connect';

const $ = (id) => document.getElementById(id);
const store = window.sessionStorage;
const KEY = 'workboard-connect.example';
// The page is its own redirect URI: exactly this URL, without query or fragment.
const redirectUri = location.origin + location.pathname;

function status(text, isError = false) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

function describe(e) {
  return e && e.name === 'WorkboardError' ? `${e.message} [${e.code}]${e.hint ? `\nHint: ${e.hint}` : ''}` : String(e);
}

function settings() {
  const q = new URLSearchParams(location.search);
  const saved = JSON.parse(store.getItem(KEY + '.settings') || '{}');
  return {
    base: $('base').value || q.get('wb') || saved.base || 'https://www.myworkboard.com',
    mode: q.get('mode') || $('mode').value || saved.mode,
    clientId: $('client-id').value || q.get('client_id') || saved.clientId || '',
    exchange: $('exchange').value || saved.exchange,
    token: $('token').value,
    era: $('era').value || 'auto',
  };
}

function fillForm() {
  const q = new URLSearchParams(location.search);
  const saved = JSON.parse(store.getItem(KEY + '.settings') || '{}');
  $('base').value = q.get('wb') || saved.base || '';
  $('mode').value = q.get('mode') || saved.mode || 'oauth21';
  $('client-id').value = q.get('client_id') || saved.clientId || '';
  $('era').value = q.get('era') || saved.era || 'auto';
  if (saved.exchange) $('exchange').value = saved.exchange;
}

/** The server asks the user something (`elicitation/create`, form mode): render the form its
 * schema describes, resolve with the answer when the user sends or declines it. */
function elicitationForm(request) {
  return new Promise((resolve) => {
    const form = $('elicitation');
    const schema = request.requestedSchema;
    $('elicitation-message').textContent = request.message;
    $('elicitation-fields').replaceChildren(...Object.entries(schema.properties).map(([name, p]) => {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.id = `field-${name}`;
      input.name = name;
      input.type = p.type === 'integer' || p.type === 'number' ? 'number' : p.type === 'boolean' ? 'checkbox' : 'text';
      if (p.minimum !== undefined) input.min = String(p.minimum);
      if (p.maximum !== undefined) input.max = String(p.maximum);
      if (p.maxLength !== undefined) input.maxLength = p.maxLength;
      input.required = (schema.required ?? []).includes(name);
      input.placeholder = p.description ?? '';
      label.append(p.title ?? name, input);
      return label;
    }));
    const done = (answer) => {
      form.hidden = true;
      document.body.dataset.elicitation = answer.action;
      resolve(answer);
    };
    form.onsubmit = (e) => {
      e.preventDefault();
      const content = {};
      for (const [name, p] of Object.entries(schema.properties)) {
        const input = $(`field-${name}`);
        if (input.type === 'checkbox') content[name] = input.checked;
        else if (input.value === '') continue;
        else content[name] = p.type === 'integer' ? parseInt(input.value, 10) : p.type === 'number' ? Number(input.value) : input.value;
      }
      done({ action: 'accept', content });
    };
    $('elicitation-decline').onclick = () => done({ action: 'decline' });
    form.hidden = false;
    document.body.dataset.elicitation = 'open';
    $(`field-${Object.keys(schema.properties)[0]}`)?.focus();
  });
}

function client(base) {
  const c = new WorkboardClient({
    environment: base,
    credentials: store.getItem(KEY + '.credentials') || undefined,
    authContext: store.getItem(KEY + '.context') || undefined,
    era: settings().era,
    // The client tells servers it can ask the user (elicitation in form mode) because this
    // handler is given.
    inputHandlers: { elicitation: elicitationForm },
  });
  // Persist whatever the SDK issues or refreshes (sessionStorage: gone with the tab).
  c.onCredentialsChanged((json) => {
    if (json) store.setItem(KEY + '.credentials', json); else store.removeItem(KEY + '.credentials');
    const ctx = c.authContextJson();
    if (ctx) store.setItem(KEY + '.context', ctx);
  });
  return c;
}

async function showTools(c) {
  status('Connected. Listing tools…');
  const tools = await c.listTools();
  const ul = $('tools');
  ul.replaceChildren(...tools.map((t) => {
    const li = document.createElement('li');
    const name = document.createElement('code');
    name.textContent = t.name;
    li.append(name, document.createTextNode(t.description ? ` — ${t.description}` : ''));
    return li;
  }));
  status(tools.length ? `Connected: ${tools.length} tools.` : 'Connected, but no tools are listed: your WorkBoard role may not have access to OKRs or Scorecards.');
  document.body.dataset.state = 'tools-listed';
  $('disconnect').hidden = false;
  current = c;
  $('check-in-button').disabled = !tools.some((t) => t.name === 'draft_check_in');
  await showResources(c);
}

let current = null;

/** Lists the MCP resources; shows the first one (and any other on request). */
async function showResources(c) {
  const resources = await c.listResources();
  $('resources').replaceChildren(...resources.map((r) => {
    const li = document.createElement('li');
    const name = document.createElement('code');
    name.textContent = r.uri;
    const show = document.createElement('button');
    show.textContent = 'Show';
    show.className = 'secondary';
    show.onclick = () => showResource(c, r.uri).catch((e) => status(describe(e), true));
    li.append(name, document.createTextNode(` ${r.title ?? r.name}`), show);
    return li;
  }));
  if (resources.length) await showResource(c, resources[0].uri);
}

async function showResource(c, uri) {
  const contents = await c.readResource(uri);
  $('resource').textContent = contents.map((item) => {
    if (item.text === undefined) return `${item.uri}: ${item.mimeType ?? 'binary'} (${(item.blob ?? '').length} base64 characters)`;
    try { return `${item.uri}\n${JSON.stringify(JSON.parse(item.text), null, 2)}`; } catch { return `${item.uri}\n${item.text}`; }
  }).join('\n\n');
  document.body.dataset.resource = uri;
}

/** Calls the tool that asks for input: the server's question reaches `elicitationForm`. */
async function checkIn() {
  $('check-in').textContent = 'Waiting for your answer…';
  const r = await current.callTool('draft_check_in', { key_result_id: parseInt($('key-result').value, 10) });
  const out = r.structuredContent ?? {};
  $('check-in').textContent = r.isError ? `The tool failed: ${r.content.map((b) => b.text ?? '').join(' ')}`
    : out.draft ? `Draft: ${out.draft}` : `No check-in drafted (${out.action ?? 'no answer'}).`;
  document.body.dataset.checkIn = r.isError ? 'error' : out.draft ? 'drafted' : 'not-drafted';
}

async function connect() {
  const s = settings();
  store.setItem(KEY + '.settings', JSON.stringify({ base: s.base, mode: s.mode, clientId: s.clientId, exchange: s.exchange, era: s.era }));
  store.removeItem(KEY + '.credentials');
  store.removeItem(KEY + '.context');
  const c = client(s.base);
  if (s.mode === 'token') {
    c.setToken(s.token);
    return showTools(c);
  }
  status('Redirecting to WorkBoard…');
  if (s.mode === 'v1') {
    const { url, pendingJson } = c.startV1SignIn({ clientId: s.clientId, redirectUri });
    store.setItem(KEY + '.pending', pendingJson);
    location.assign(url);
    return;
  }
  const start = await c.startMcpSignIn({ redirectUri, clientId: s.clientId || undefined });
  store.setItem(KEY + '.pending', start.pendingJson);
  location.assign(start.url);
}

async function resume() {
  const q = new URLSearchParams(location.search);
  const pending = store.getItem(KEY + '.pending');
  const s = settings();
  if ((q.has('code') || q.has('error')) && pending) {
    store.removeItem(KEY + '.pending'); // single use, whatever happens next
    const c = client(s.base);
    const back = location.href;
    history.replaceState(null, '', redirectUri); // the code leaves the address bar
    status('Completing sign-in…');
    if (s.mode === 'v1') {
      const code = c.handleV1Redirect(pending, back);
      const r = await fetch(s.exchange, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ code: code.code, redirect_uri: code.redirectUri }),
      });
      if (!r.ok) throw new Error(`the exchange endpoint answered ${r.status}`);
      const { credentials } = await r.json();
      c.setCredentialsJson(typeof credentials === 'string' ? credentials : JSON.stringify(credentials));
    } else {
      await c.completeMcpSignIn(pending, back);
    }
    return showTools(c);
  }
  if (store.getItem(KEY + '.credentials')) return showTools(client(s.base));
}

$('connect').addEventListener('click', () => connect().catch((e) => status(describe(e), true)));
$('check-in-button').addEventListener('click', () => checkIn().catch((e) => status(describe(e), true)));
$('disconnect').addEventListener('click', () => {
  for (const k of ['.credentials', '.context', '.pending']) store.removeItem(KEY + k);
  current?.close();
  current = null;
  $('check-in-button').disabled = true;
  for (const id of ['tools', 'resources']) $(id).replaceChildren();
  $('resource').textContent = '';
  $('disconnect').hidden = true;
  status('Not connected.');
});
fillForm();
resume().catch((e) => status(describe(e), true));
