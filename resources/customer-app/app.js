/* global localStorage, location, history */
// The built-in customer app (issue 10, PROTOCOL.md 4 and 8). Plain JavaScript served by the hub
// at /a/default/: no build step, nothing fetched from anywhere but the hub that served it.
//
// Sign-in: an invite link is `<hub>/a/default/?<customer token>` (the whole query string is the
// token). The token is kept in localStorage and removed from the address bar. Then:
//   GET /customer                      -> pubkeys: one device public key per linked device
//   GET /api/v2/m/device               -> {id, shadow} filtered by the device's ACL
//   POST /api/v2/m/device              {"shadow":{"state":{"desired":{..}}}}; 403: not writable
//   POST /api/v2/m/device/rpc/<method> -> the device's result; 403: not allowed
//   WS /api/v2/m/device/notify         -> online / offline / updated (shadow) events
const TOKEN_KEY = 'fleetbench.customer.token';
const HUB_OWNED = new Set(['online']);
// Facts the firmware reports about itself (Sys.GetInfo): shown as device info, never as controls.
const isInfo = (path) => path === 'ota' || path.startsWith('ota.');
const EVENTS_KEPT = 8;

const $ = (id) => document.getElementById(id);
const ui = {
  notice: $('notice'),
  signin: $('signin'),
  signinForm: $('signin-form'),
  signinLink: $('signin-link'),
  signout: $('signout'),
  loading: $('loading'),
  empty: $('empty'),
  devices: $('devices'),
  template: $('device-template'),
};

/** Every open device (by public key): its card, sockets and latest shadow. */
const devices = new Map();

// --- token --------------------------------------------------------------------------------

function takeTokenFromUrl() {
  const query = location.search.slice(1);
  if (query === '') return;
  localStorage.setItem(TOKEN_KEY, query);
  // The token must not stay in the address bar, history or bookmarks.
  history.replaceState(null, '', location.pathname + location.hash);
}

function tokenFromLink(text) {
  const s = text.trim();
  const q = s.indexOf('?');
  return q >= 0 ? s.slice(q + 1).split('#')[0] : s;
}

// --- HTTP ---------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function call(method, path, key, body) {
  const headers = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      cache: 'no-store',
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'The hub cannot be reached. Check your connection.');
  }
  const text = await res.text();
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      message = JSON.parse(text).error.message || message;
    } catch {
      // not the hub's JSON error: keep the status line
    }
    throw new ApiError(res.status, message);
  }
  return text;
}

const callJson = async (method, path, key, body) => {
  const text = await call(method, path, key, body);
  return text === '' ? null : JSON.parse(text);
};

// --- shadow helpers ------------------------------------------------------------------------

/** Leaves of an object as [dotted path, value]; arrays and null are leaves. */
function leaves(obj, prefix = '', out = []) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    if (prefix !== '') out.push([prefix, obj]);
    return out;
  }
  for (const [k, v] of Object.entries(obj)) leaves(v, prefix === '' ? k : `${prefix}.${k}`, out);
  return out;
}

/** `{a:{b:v}}` from "a.b" and v. */
function nested(path, value) {
  const keys = path.split('.');
  const root = {};
  let at = root;
  keys.forEach((k, i) => {
    at[k] = i === keys.length - 1 ? value : {};
    at = at[k];
  });
  return root;
}

/** The rows to show: every leaf of reported and desired, with both values. */
function rowsOf(shadow) {
  const state = (shadow && shadow.state) || {};
  const rows = new Map();
  for (const [path, v] of leaves(state.reported || {})) rows.set(path, { reported: v });
  for (const [path, v] of leaves(state.desired || {})) {
    rows.set(path, { ...(rows.get(path) || {}), desired: v });
  }
  for (const p of HUB_OWNED) rows.delete(p);
  return [...rows.entries()].sort(([a], [b]) => a.localeCompare(b));
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const show = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

const INFO_LABELS = {
  id: 'Device id',
  app: 'App',
  arch: 'Chip',
  fw_version: 'Firmware',
  fw_id: 'Build',
  mac: 'MAC address',
  ram_free: 'Free memory (bytes)',
  uptime: 'Uptime (s)',
  reboot_reason: 'Last reboot',
  public_key: 'Public key',
};

function labelOf(path) {
  const parts = path.split('.');
  const last = parts.pop();
  if (parts.length === 0 && INFO_LABELS[last]) return { title: INFO_LABELS[last], group: '' };
  const words = last.replace(/[_-]+/g, ' ');
  return { title: words.charAt(0).toUpperCase() + words.slice(1), group: parts.join(' › ') };
}

// --- rendering -------------------------------------------------------------------------------

function setNotice(text) {
  ui.notice.textContent = text || '';
  ui.notice.hidden = !text;
}

function setOnline(dev, online) {
  const dot = dev.card.querySelector('.dot');
  const value = online === undefined ? 'unknown' : String(online);
  dot.dataset.online = value;
  dot.title = { true: 'online', false: 'offline', unknown: 'status unknown' }[value];
  dev.card.querySelector('.state').textContent =
    value === 'unknown' ? '' : online ? 'online' : 'offline';
}

function addEvent(dev, name, detail) {
  const list = dev.card.querySelector('.event-list');
  const li = document.createElement('li');
  const time = new Date().toLocaleTimeString();
  li.append(`${time} `);
  const b = document.createElement('b');
  b.textContent = name;
  li.append(b);
  if (detail) li.append(` ${detail}`);
  list.prepend(li);
  while (list.children.length > EVENTS_KEPT) list.lastElementChild.remove();
  dev.events += 1;
  dev.card.querySelector('.event-count').textContent = `(${dev.events})`;
}

/** Creates or updates the card's rows, never touching a field the person is typing in. */
function renderShadow(dev) {
  const reported = dev.shadow && dev.shadow.state && dev.shadow.state.reported;
  if (reported && typeof reported.online === 'boolean') setOnline(dev, reported.online);
  const box = dev.card.querySelector('.leaves');
  const infoBox = dev.card.querySelector('.info-list');
  const rows = rowsOf(dev.shadow);
  dev.card.querySelector('.nothing').hidden = rows.length > 0;
  dev.card.querySelector('.info').hidden = !rows.some(([path]) => isInfo(path));
  const seen = new Set();
  for (const [path, vals] of rows) {
    seen.add(path);
    const current = 'desired' in vals ? vals.desired : vals.reported;
    const kind = isInfo(path) ? 'info' : typeof current;
    let row = dev.rows.get(path);
    if (!row || row.kind !== kind) {
      row?.el.remove();
      row = makeRow(dev, path, kind);
      dev.rows.set(path, row);
    }
    (kind === 'info' ? infoBox : box).append(row.el); // keeps the sorted order
    updateRow(row, vals, current);
  }
  for (const [path, row] of dev.rows) {
    if (!seen.has(path)) {
      row.el.remove();
      dev.rows.delete(path);
    }
  }
}

function makeRow(dev, path, kind) {
  const el = document.createElement('div');
  el.className = 'leaf';
  el.dataset.testid = 'leaf';
  el.dataset.path = path;
  const name = document.createElement('div');
  name.className = 'leaf-name';
  const { title, group } = kind === 'info' ? labelOf(path.replace(/^ota\.?/, '')) : labelOf(path);
  name.textContent = title;
  if (group) {
    const small = document.createElement('small');
    small.textContent = group;
    name.append(small);
  }
  const value = document.createElement('div');
  value.className = 'leaf-value';
  const error = document.createElement('p');
  error.className = 'leaf-error';
  error.dataset.testid = 'leaf-error';
  error.setAttribute('role', 'alert');
  error.hidden = true;
  el.append(name, value, error);
  const row = { el, path, kind, value, error, control: null, locked: false, busy: false };

  if (kind === 'boolean') {
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.className = 'switch';
    input.dataset.testid = 'leaf-toggle';
    input.setAttribute('role', 'switch');
    input.setAttribute('aria-label', title);
    input.addEventListener('change', () => write(dev, row, input.checked));
    row.control = input;
    value.append(input);
  } else if (kind === 'number' || kind === 'string') {
    const form = document.createElement('form');
    form.className = 'set';
    const input = document.createElement('input');
    input.type = kind === 'number' ? 'number' : 'text';
    if (kind === 'number') input.step = 'any';
    input.dataset.testid = 'leaf-input';
    input.setAttribute('aria-label', title);
    const button = document.createElement('button');
    button.type = 'submit';
    button.textContent = 'Set';
    button.dataset.testid = 'leaf-set';
    form.append(input, button);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (kind === 'number') {
        const n = Number(input.value);
        if (input.value.trim() === '' || !Number.isFinite(n)) {
          showRowError(row, 'Enter a number.');
          return;
        }
        write(dev, row, n);
      } else {
        write(dev, row, input.value);
      }
    });
    input.addEventListener('input', () => (row.dirty = true));
    row.control = input;
    row.button = button;
    value.append(form);
  } else {
    const text = document.createElement('span');
    text.dataset.testid = 'leaf-text';
    value.append(text);
    row.text = text;
  }
  const note = document.createElement('div');
  note.className = 'note';
  value.append(note);
  row.note = note;
  return row;
}

function updateRow(row, vals, current) {
  row.current = current;
  if (row.kind === 'boolean') {
    if (!row.busy) row.control.checked = current;
  } else if (row.control) {
    const focused = document.activeElement === row.control;
    if (!row.busy && !focused && !row.dirty) row.control.value = String(current);
  } else {
    row.text.textContent = show(current);
  }
  row.el.dataset.value = show(current);
  const pending = 'desired' in vals && 'reported' in vals && !same(vals.desired, vals.reported);
  row.note.className = pending ? 'note pending' : row.locked ? 'note locked' : 'note';
  row.note.textContent = pending
    ? `device reports ${show(vals.reported)}`
    : row.locked
      ? 'read-only'
      : '';
  row.el.dataset.pending = String(pending);
}

function showRowError(row, text) {
  row.error.textContent = text;
  row.error.hidden = !text;
}

function lock(row) {
  row.locked = true;
  if (row.control) row.control.disabled = true;
  if (row.button) row.button.disabled = true;
  row.el.dataset.locked = 'true';
}

async function write(dev, row, value) {
  showRowError(row, '');
  row.busy = true;
  if (row.control) row.control.disabled = true;
  if (row.button) row.button.disabled = true;
  try {
    const body = { shadow: { state: { desired: nested(row.path, value) } } };
    const seen = dev.updates;
    const res = await callJson('POST', '/api/v2/m/device', dev.key, body);
    row.dirty = false;
    // A live update that arrived meanwhile is newer than this answer: keep it.
    if (res && res.shadow && dev.updates === seen) dev.shadow = res.shadow;
  } catch (err) {
    if (err.status === 403) {
      showRowError(row, 'You may not change this setting.');
      row.error.title = err.message;
      lock(row);
    } else {
      showRowError(row, `Not changed: ${err.message}`);
    }
  } finally {
    row.busy = false;
    if (!row.locked) {
      if (row.control) row.control.disabled = false;
      if (row.button) row.button.disabled = false;
    }
    row.dirty = false;
    // Shows what the hub holds now: the new value, or the old one again after a refusal.
    renderShadow(dev);
  }
}

async function callRpc(dev, form) {
  const method = form.querySelector('.rpc-method').value.trim();
  const paramsText = form.querySelector('.rpc-params').value.trim();
  const out = dev.card.querySelector('.rpc-result');
  const button = form.querySelector('button');
  const showResult = (text, isError) => {
    out.textContent = text;
    out.classList.toggle('error', isError);
    out.dataset.status = isError ? 'error' : 'ok';
    out.hidden = false;
  };
  if (method === '') return showResult('Enter a method name, like Sys.GetInfo.', true);
  let params;
  try {
    params = paramsText === '' ? {} : JSON.parse(paramsText);
  } catch (err) {
    return showResult(`The parameters are not valid JSON: ${err.message}`, true);
  }
  button.disabled = true;
  try {
    const text = await call(
      'POST',
      `/api/v2/m/device/rpc/${encodeURIComponent(method)}`,
      dev.key,
      params,
    );
    let pretty = text;
    try {
      pretty = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // not JSON: show as sent
    }
    showResult(pretty, false);
  } catch (err) {
    showResult(err.status === 403 ? `Not allowed: ${err.message}` : err.message, true);
  } finally {
    button.disabled = false;
  }
}

// --- live events ---------------------------------------------------------------------------

function connect(dev) {
  if (dev.closed) return;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${location.host}/api/v2/m/device/notify?access_token=${encodeURIComponent(dev.key)}`;
  const ws = new WebSocket(url);
  dev.ws = ws;
  ws.onopen = () => {
    dev.retryMs = 1000;
    // Changes between the first read and this moment never reach the stream: read once more.
    callJson('GET', '/api/v2/m/device', dev.key)
      .then((d) => {
        dev.updates++;
        dev.shadow = d.shadow;
        renderShadow(dev);
      })
      .catch(() => undefined)
      .finally(() => {
        dev.card.dataset.live = 'true';
      });
  };
  ws.onmessage = (e) => {
    let n;
    try {
      n = JSON.parse(e.data);
    } catch {
      return;
    }
    if (n.name === 'online' || n.name === 'offline') {
      setOnline(dev, n.name === 'online');
      addEvent(dev, n.name);
    } else if (n.name === 'updated' && n.data && n.data.shadow) {
      dev.updates++;
      dev.shadow = n.data.shadow;
      renderShadow(dev);
      addEvent(dev, 'shadow updated');
    } else if (n.name === 'deleted') {
      showDeviceError(dev, 'This device was removed.');
      addEvent(dev, 'deleted');
    } else if (typeof n.name === 'string') {
      addEvent(dev, n.name);
    }
  };
  ws.onclose = () => {
    dev.card.dataset.live = 'false';
    if (dev.closed) return;
    // Back off while the hub is away; a restart of the hub is picked up again.
    setTimeout(() => connect(dev), dev.retryMs);
    dev.retryMs = Math.min(dev.retryMs * 2, 30_000);
  };
}

function showDeviceError(dev, text) {
  const p = dev.card.querySelector('.card-error');
  p.textContent = text;
  p.hidden = !text;
}

// --- devices --------------------------------------------------------------------------------

function openDevice(key, meta) {
  const card = ui.template.content.firstElementChild.cloneNode(true);
  const dev = {
    key,
    card,
    rows: new Map(),
    shadow: null,
    events: 0,
    updates: 0,
    retryMs: 1000,
    closed: false,
  };
  const label = meta && typeof meta.name === 'string' && meta.name !== '' ? meta.name : '';
  card.querySelector('.name').textContent = label || 'Device';
  card.querySelector('.rpc-form').addEventListener('submit', (e) => {
    e.preventDefault();
    callRpc(dev, e.currentTarget);
  });
  ui.devices.append(card);
  devices.set(key, dev);
  callJson('GET', '/api/v2/m/device', key)
    .then((d) => {
      card.dataset.deviceId = d.id;
      if (!label) card.querySelector('.name').textContent = d.id;
      dev.shadow = d.shadow;
      renderShadow(dev);
      connect(dev);
    })
    .catch((err) => {
      showDeviceError(
        dev,
        err.status === 401 || err.status === 403
          ? 'This device no longer shares its state with you.'
          : err.message,
      );
    });
}

function closeAll() {
  for (const dev of devices.values()) {
    dev.closed = true;
    dev.ws?.close();
  }
  devices.clear();
  ui.devices.replaceChildren();
}

async function start() {
  takeTokenFromUrl();
  const token = localStorage.getItem(TOKEN_KEY);
  closeAll();
  ui.empty.hidden = true;
  if (!token) {
    ui.signin.hidden = false;
    ui.signout.hidden = true;
    return;
  }
  ui.signin.hidden = true;
  ui.signout.hidden = false;
  ui.loading.hidden = false;
  try {
    const me = await callJson('GET', '/customer', token);
    setNotice('');
    const keys = Object.entries((me && me.pubkeys) || {});
    ui.empty.hidden = keys.length > 0;
    for (const [key, meta] of keys) openDevice(key, meta);
  } catch (err) {
    if (err.status === 401) {
      localStorage.removeItem(TOKEN_KEY);
      setNotice('This sign-in link is no longer valid. Ask for a new invitation.');
      ui.signin.hidden = false;
      ui.signout.hidden = true;
    } else {
      setNotice(err.message);
    }
  } finally {
    ui.loading.hidden = true;
  }
}

ui.signinForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const token = tokenFromLink(ui.signinLink.value);
  if (token === '') return;
  localStorage.setItem(TOKEN_KEY, token);
  ui.signinLink.value = '';
  start();
});

ui.signout.addEventListener('click', () => {
  localStorage.removeItem(TOKEN_KEY);
  setNotice('');
  start();
});

start();
