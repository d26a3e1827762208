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
  };
}

function fillForm() {
  const q = new URLSearchParams(location.search);
  const saved = JSON.parse(store.getItem(KEY + '.settings') || '{}');
  $('base').value = q.get('wb') || saved.base || '';
  $('mode').value = q.get('mode') || saved.mode || 'oauth21';
  $('client-id').value = q.get('client_id') || saved.clientId || '';
  if (saved.exchange) $('exchange').value = saved.exchange;
}

function client(base) {
  const c = new WorkboardClient({
    environment: base,
    credentials: store.getItem(KEY + '.credentials') || undefined,
    authContext: store.getItem(KEY + '.context') || undefined,
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
}

async function connect() {
  const s = settings();
  store.setItem(KEY + '.settings', JSON.stringify({ base: s.base, mode: s.mode, clientId: s.clientId, exchange: s.exchange }));
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
$('disconnect').addEventListener('click', () => {
  for (const k of ['.credentials', '.context', '.pending']) store.removeItem(KEY + k);
  $('tools').replaceChildren();
  $('disconnect').hidden = true;
  status('Not connected.');
});
fillForm();
resume().catch((e) => status(describe(e), true));
