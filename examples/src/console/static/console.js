// The ward tablet's page: talks only to its own console server (same origin), which holds the
// Mx2 session, the QKD keys and the sealed invocations. No key bytes ever reach this page.
const $ = (sel) => document.querySelector(sel);

/** Creates an element with text content and attributes; children appended in order. */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

async function api(path, init) {
  const res = await fetch(path, {
    ...init,
    headers: { accept: 'application/json', ...(init?.body ? { 'content-type': 'application/json' } : {}) },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.detail ?? body.title ?? `HTTP ${res.status}`);
  return body;
}

const LABELS = {
  sex: 'Sex',
  age: 'Age (years)',
  totalCholesterol: 'Total cholesterol (mg/dL)',
  hdlCholesterol: 'HDL cholesterol (mg/dL)',
  systolicBloodPressure: 'Systolic blood pressure (mmHg)',
  bloodPressureTreated: 'On blood-pressure treatment',
  smoker: 'Smoker',
  diabetes: 'Diabetes',
  comorbidities: 'Comorbidities',
  respiratoryRate: 'Respiratory rate (/min)',
  oxygenSaturation: 'SpO₂ on air (%)',
  glasgowComaScale: 'Glasgow coma scale',
  ureaMmolL: 'Urea (mmol/L)',
  crpMgL: 'CRP (mg/L)',
};
const show = (v) => (v === true ? 'yes' : v === false ? 'no' : String(v));

const state = { wards: [], patients: new Map(), contexts: [] };

function fillPatients(wardId, selectId) {
  const ward = state.wards.find((w) => w.id === wardId);
  const sel = $('#patient-id');
  sel.replaceChildren(...(ward?.patients ?? []).map((p) => el('option', { value: p.id }, p.label)));
  if (selectId) sel.value = selectId;
  showPatient();
}

function showPatient() {
  const p = state.patients.get($('#patient-id').value);
  const rows = p ? Object.entries(p.record).filter(([k]) => k in LABELS) : [];
  $('#patient-data tbody').replaceChildren(
    ...rows.map(([k, v]) => el('tr', {}, el('th', { scope: 'row' }, LABELS[k]), el('td', {}, show(v)))),
  );
}

async function loadWards(selectWard, selectPatient) {
  state.wards = await api('/api/wards');
  state.patients = new Map(state.wards.flatMap((w) => w.patients.map((p) => [p.id, p])));
  $('#ward').replaceChildren(...state.wards.map((w) => el('option', { value: w.id }, w.name)));
  if (selectWard) $('#ward').value = selectWard;
  fillPatients($('#ward').value, selectPatient);
}

function outcomeOf(a) {
  const r = a.result;
  if (a.model === 'cardio') {
    const pct = (r.tenYearRisk * 100).toFixed(1);
    const level = r.tenYearRisk >= 0.2 ? 'high' : r.tenYearRisk >= 0.1 ? 'mid' : 'low';
    return { text: `${pct} % ten-year cardiovascular risk`, level };
  }
  const level = r.score >= 9 ? 'high' : r.score >= 4 ? 'mid' : 'low';
  return {
    text: `4C score ${r.score}: ${r.riskGroup} risk (observed mortality ${(r.observedMortality * 100).toFixed(1)} %)`,
    level,
  };
}

function showResult(a) {
  const o = outcomeOf(a);
  const facts = [
    ['Patient', `${a.patientId} (${a.ward})`],
    ['Model', `${a.app} — ${a.result.model}`],
    ['Served by', `${a.host} (host SAE ${a.hostSaeId})`],
    ['QKD key ID', a.keyId],
    ['Invocation sequence number', a.seq],
    ['Context', a.contextId],
  ];
  $('#result').replaceChildren(
    el('p', { class: `outcome ${o.level}`, id: 'outcome' }, o.text),
    el(
      'table',
      { class: 'facts', id: 'result-facts' },
      el('caption', {}, 'How it was computed'),
      el(
        'tbody',
        {},
        ...facts.map(([k, v]) =>
          el('tr', {}, el('th', { scope: 'row' }, k), el('td', { class: 'mono' }, String(v))),
        ),
      ),
    ),
  );
}

/** Set through the CSSOM: the page's CSP allows no inline style attributes. */
function bar(percent) {
  const b = el('span', { class: 'bar', 'aria-hidden': 'true' });
  b.style.width = `${percent}%`;
  return b;
}

function showSteps(a) {
  const max = Math.max(1, ...a.steps.map((s) => s.ms ?? 0));
  $('#seq-of').textContent =
    `${a.app}, invocation ${a.seq} under key ${a.keyId.slice(0, 8)}… on ${a.host} at ${new Date(a.at).toLocaleTimeString()}; ` +
    `context ${a.contextId.slice(0, 8)}… created at ${new Date(a.contextCreatedAt).toLocaleTimeString()}`;
  $('#steps').replaceChildren(
    ...a.steps.map((s) =>
      el(
        'li',
        { class: s.earlier ? 'earlier' : '' },
        el('span', { class: 'n', 'aria-hidden': 'true' }, s.n),
        el('span', { class: 'name' }, el('span', { class: 'sr-only' }, `Step ${s.n}: `), s.name),
        el('span', { class: 'where' }, s.note ? `${s.where} · ${s.note}` : s.where),
        el('span', { class: 'ms' }, s.ms === null ? '—' : `${s.ms.toFixed(1)} ms`),
        bar(s.ms === null ? 0 : Math.max(2, (s.ms / max) * 100)),
      ),
    ),
  );
}

async function run(model) {
  const patientId = $('#patient-id').value;
  const buttons = document.querySelectorAll('button[data-model]');
  buttons.forEach((b) => {
    b.disabled = true;
  });
  $('#result').setAttribute('aria-busy', 'true');
  $('#result').replaceChildren(el('p', { class: 'muted' }, 'Sealing the record and offloading…'));
  try {
    const a = await api('/api/assessments', {
      method: 'POST',
      body: JSON.stringify({ model, ward: $('#ward').value, patientId }),
    });
    showResult(a);
    showSteps(a);
  } catch (err) {
    $('#result').replaceChildren(
      el('p', { class: 'error', role: 'alert' }, `The assessment failed: ${err.message}`),
    );
  } finally {
    $('#result').setAttribute('aria-busy', 'false');
    buttons.forEach((b) => {
      b.disabled = false;
    });
  }
}

function showContexts(list) {
  state.contexts = list;
  $('#contexts tbody').replaceChildren(
    ...list.map((c) =>
      el(
        'tr',
        { class: c.migrations > 0 ? 'moved' : '' },
        el('td', {}, c.app),
        el('td', { class: 'mono', title: c.contextId }, `${c.contextId.slice(0, 8)}…`),
        el(
          'td',
          {},
          c.host,
          c.migrations > 0 ? ` (moved ${c.migrations}×)` : '',
          el('br'),
          el('span', { class: 'muted mono' }, c.hostSaeId),
        ),
        el('td', {}, c.invocations),
      ),
    ),
  );
}

function addNotification(n) {
  const time = new Date(n.at);
  $('#notifications').prepend(
    el('li', {}, el('time', { datetime: time.toISOString() }, time.toLocaleTimeString()), n.text),
  );
}

function connectLive() {
  const badge = $('#live-state');
  const es = new EventSource('/api/events');
  es.addEventListener('open', () => {
    badge.textContent = 'Live view: connected';
    badge.className = 'badge on';
  });
  es.addEventListener('error', () => {
    badge.textContent = 'Live view: reconnecting…';
    badge.className = 'badge off';
  });
  es.addEventListener('contexts', (e) => showContexts(JSON.parse(e.data)));
  es.addEventListener('notification', (e) => addNotification(JSON.parse(e.data)));
}

async function newPatient() {
  const ward = $('#ward').value;
  const p = await api(`/api/wards/${encodeURIComponent(ward)}/patients`, { method: 'POST' });
  await loadWards(ward, p.id);
  $('#patient-id').focus();
}

addEventListener('DOMContentLoaded', async () => {
  $('#ward').addEventListener('change', () => fillPatients($('#ward').value));
  $('#patient-id').addEventListener('change', showPatient);
  $('#new-patient').addEventListener('click', () =>
    newPatient().catch((err) => {
      $('#result').replaceChildren(el('p', { class: 'error', role: 'alert' }, err.message));
    }),
  );
  for (const b of document.querySelectorAll('button[data-model]'))
    b.addEventListener('click', () => run(b.dataset.model));
  connectLive();
  await loadWards();
  // a page opened later (another tablet orientation, a reload) shows the last assessment too
  const [last] = await api('/api/assessments');
  if (last) {
    showResult(last);
    showSteps(last);
  }
});
