// The live page of one election: /elections/<id>. Reads the election, then shows the feed's snapshots.
import { connectLive } from './live-connection.js';
import {
  addSample,
  candidateRows,
  chartBars,
  formatCount,
  formatRate,
  formatShare,
  officialResult,
  parseSnapshot,
  rateBuckets,
  recentRate,
  regionTable,
  windowState,
} from './live-model.js';
import { myVotes, receiptPath, rememberVote } from './my-votes.js';

const $ = (id) => document.getElementById(id);
const electionId = decodeURIComponent(location.pathname.replace(/\/+$/, '').split('/').pop() ?? '');
const api = `/v1/elections/${encodeURIComponent(electionId)}`;
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

let election = { electionId, title: electionId, candidates: [], regions: [], opensAt: 0, closesAt: 0 };
let latest = null; // last snapshot
let clockOffset = 0; // server `at` minus local time at receipt, so the chart scrolls on the feed's clock
let reconnected = false;
let lastAnnounced = 0;
const history = [];

function el(tag, props = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

class UnknownElection extends Error {}

function showProblem(text) {
  $('problem').textContent = text;
  $('problem').hidden = text === '';
}

async function loadElection() {
  const res = await fetch(api, { headers: { accept: 'application/json' } });
  if (res.status === 404) throw new UnknownElection(`There is no election "${electionId}".`);
  if (!res.ok) throw new Error(`Could not load the election (HTTP ${res.status}).`);
  election = await res.json();
  document.title = `${election.title} · live results`;
  $('title').textContent = election.title;
  $('window').textContent = `${windowState(election, Date.now())} · ${dateFormat.format(election.opensAt)} – ${dateFormat.format(election.closesAt)}`;
  renderVoteButtons();
  if (latest !== null) render(latest);
}

// ---- the live count

function renderCandidates(s) {
  const list = $('candidates');
  const rows = candidateRows(election.candidates, s.counts, s.total);
  const seen = new Set();
  for (const [i, r] of rows.entries()) {
    seen.add(r.id);
    let li = list.querySelector(`li[data-candidate-id="${CSS.escape(r.id)}"]`);
    if (li === null) {
      li = el('li', { class: 'candidate', 'data-candidate-id': r.id }, [
        el('div', { class: 'label' }, [el('span', { class: 'name' }), el('span', { class: 'numbers' }, [el('span', { class: 'count' }), ' votes · ', el('span', { class: 'share' })])]),
        el('div', { class: 'bar', 'aria-hidden': 'true' }, [el('span')]),
      ]);
    }
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] ?? null);
    li.querySelector('.name').textContent = r.name;
    li.querySelector('.count').textContent = formatCount(r.count);
    li.querySelector('.share').textContent = formatShare(r.share);
    li.dataset.count = String(r.count);
    li.querySelector('.bar > span').style.width = `${Number((r.share * 100).toFixed(2))}%`;
  }
  for (const li of [...list.children]) if (!seen.has(li.dataset.candidateId)) li.remove();
  return rows;
}

function renderRegions(s) {
  const ids = candidateRows(election.candidates, s.counts, s.total).map((r) => r.id);
  const names = candidateRows(election.candidates, s.counts, s.total).map((r) => r.name);
  const rows = regionTable(s.regions, election.regions ?? [], ids);
  $('regions-section').hidden = rows.length === 0;
  if (rows.length === 0) return;
  const head = el('tr', {}, [el('th', { scope: 'col', text: 'Region' }), ...names.map((n) => el('th', { scope: 'col', text: n })), el('th', { scope: 'col', text: 'Total' })]);
  $('regions').tHead.replaceChildren(head);
  $('regions').tBodies[0].replaceChildren(
    ...rows.map((r) => el('tr', { 'data-region': r.region }, [el('th', { scope: 'row', text: r.region }), ...r.cells.map((n) => el('td', { text: formatCount(n) })), el('td', { text: formatCount(r.total) })])),
  );
}

function renderOfficial(s) {
  const o = officialResult(s.official, election.candidates);
  $('official').hidden = o === null;
  if (o === null) return;
  $('official-table').tBodies[0].replaceChildren(
    ...o.rows.map((r) => el('tr', { 'data-candidate-id': r.id }, [el('th', { scope: 'row', text: r.name }), el('td', { text: formatCount(r.count) }), el('td', { text: formatShare(r.share) })])),
  );
  $('official-total').textContent = formatCount(o.total);
  $('official-root').textContent = o.root || 'not given';
  $('official-verified').textContent = o.verifiedAt !== undefined ? `Verified ${dateFormat.format(o.verifiedAt)}.` : '';
  $('official-checkpoint').textContent = o.checkpoint;
  $('official-checkpoint-box').hidden = o.checkpoint === '';
}

// localStorage can be missing or refuse access (privacy settings): then nothing is remembered.
function storage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

// Once official, the votes cast from this browser link their receipts (the feed serves them only then).
function renderReceipts(official) {
  const store = storage();
  const mine = official && store !== null ? myVotes(store, electionId) : [];
  $('receipts').hidden = mine.length === 0;
  const list = $('receipt-links');
  const shown = [...list.children].map((li) => li.dataset.voteId).join(',');
  if (shown === mine.map((v) => v.voteId).join(',')) return;
  list.replaceChildren(
    ...mine.map((v) =>
      el('li', { 'data-vote-id': v.voteId }, [
        el('a', { href: receiptPath(electionId, v.voteId), download: `receipt-${v.voteId}.json`, text: `Receipt of your vote for ${v.candidate}` }),
        ` (${dateFormat.format(v.at)}, vote ${v.voteId})`,
      ]),
    ),
  );
}

function renderChart() {
  const buckets = rateBuckets(history, Date.now() + clockOffset);
  const { max, bars } = chartBars(buckets, 300, 58);
  $('rate-bars').replaceChildren(
    ...bars.filter((b) => b.height > 0).map((b) => {
      const r = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      for (const [k, v] of Object.entries({ x: b.x, y: b.y + 1, width: b.width, height: b.height })) r.setAttribute(k, v.toFixed(2));
      return r;
    }),
  );
  const now = recentRate(buckets);
  $('rate-now').textContent = formatRate(now);
  $('rate-peak').textContent = formatRate(max);
  $('rate-chart-title').textContent = `Votes per second over the last 5 minutes, in 5-second bars; now ${formatRate(now)}, peak ${formatRate(max)}`;
}

function render(s) {
  $('total').textContent = formatCount(s.total);
  $('total').dataset.total = String(s.total);
  const rows = renderCandidates(s);
  renderRegions(s);
  renderOfficial(s);
  renderReceipts(officialResult(s.official, election.candidates) !== null);
  renderChart();
  $('updated').dateTime = new Date(s.at).toISOString();
  $('updated').textContent = timeFormat.format(s.at);
  announceSoon(rows, s.total);
}

// Screen readers hear a summary of the count at most every 10 s (the last one is never lost), not every snapshot.
let announceTimer = null;
let pendingAnnouncement = '';
function announceSoon(rows, total) {
  pendingAnnouncement = `${formatCount(total)} votes. ${rows.map((r) => `${r.name} ${formatCount(r.count)}, ${formatShare(r.share)}`).join('; ')}.`;
  if (announceTimer !== null) return;
  announceTimer = setTimeout(() => {
    announceTimer = null;
    lastAnnounced = Date.now();
    if ($('announce').textContent !== pendingAnnouncement) $('announce').textContent = pendingAnnouncement;
  }, Math.max(0, lastAnnounced + 10_000 - Date.now()));
}

function onMessage(text) {
  const s = parseSnapshot(text, electionId);
  if (s === null) return;
  clockOffset = s.at - Date.now();
  addSample(history, s, { afterReconnect: reconnected });
  reconnected = false;
  if (Object.keys(s.counts).some((id) => !id.startsWith('_') && !election.candidates.some((c) => c.id === id))) void loadElection().catch(() => undefined);
  latest = s;
  render(s);
}

// ---- the connection state

const STATE_TEXT = { connecting: 'connecting', live: 'live', reconnecting: 'reconnecting', offline: 'offline' };

function onState({ state, transport, retryInMs, reason }) {
  const conn = $('conn');
  conn.dataset.state = state;
  const word = STATE_TEXT[state] ?? state;
  if (conn.textContent !== word) conn.textContent = word;
  const details = [];
  if (state === 'live' && transport === 'sse') details.push('server-sent events');
  if (retryInMs !== undefined) details.push(`retrying in ${Math.max(1, Math.round(retryInMs / 1000))} s`);
  if (reason) details.push(reason);
  $('conn-detail').textContent = details.length > 0 ? `(${details.join(', ')})` : '';
  $('retry').hidden = state !== 'offline';
  if (state !== 'live') reconnected = true;
}

// ---- the demo vote form

let demoToken = null; // the token fetched at load to learn whether demo mode is on; later votes fetch their own
let gatewayUrl = null;

async function demoTokenFetch() {
  const res = await fetch(`/v1/demo-token?election=${encodeURIComponent(electionId)}`, { headers: { accept: 'application/json' } });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`no demo token (HTTP ${res.status})`);
  return (await res.json()).token;
}

async function loadGatewayUrl() {
  const res = await fetch('/v1/config', { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`Could not learn the gateway's address (HTTP ${res.status}).`);
  const url = (await res.json()).gatewayUrl;
  return typeof url === 'string' && url !== '' ? url.replace(/\/+$/, '') : null;
}

// The form shows only in demo mode (a demo token is served) with a gateway to send votes to.
async function setUpVoteForm() {
  try {
    [demoToken, gatewayUrl] = await Promise.all([demoTokenFetch(), loadGatewayUrl()]);
  } catch {
    demoToken = null;
  }
  $('vote').hidden = demoToken === null || gatewayUrl === null;
}

function renderVoteButtons() {
  $('vote-buttons').replaceChildren(...election.candidates.map((c) => el('button', { type: 'submit', name: 'candidateId', value: c.id, text: c.name })));
}

function showVoteResult(ok, text) {
  $('vote-result').dataset.ok = String(ok);
  $('vote-result').textContent = text;
}

async function castVote(candidateId) {
  const token = demoToken ?? (await demoTokenFetch());
  demoToken = null;
  if (token === null) throw new Error('Demo voting is not available.');
  gatewayUrl ??= await loadGatewayUrl();
  if (gatewayUrl === null) throw new Error('This feed knows no vote gateway.');
  let res;
  try {
    res = await fetch(`${gatewayUrl}/v1/elections/${encodeURIComponent(electionId)}/votes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ candidateId }),
    });
  } catch {
    throw new Error('Could not reach the vote gateway.');
  }
  const body = await res.json().catch(() => ({}));
  if (res.status === 202) return body.voteId;
  throw new Error(body.message ?? `The gateway answered HTTP ${res.status}.`);
}

$('vote-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const button = e.submitter;
  if (button === null || button === undefined) return;
  const buttons = [...$('vote-buttons').querySelectorAll('button')];
  for (const b of buttons) b.disabled = true;
  showVoteResult(true, `Sending your vote for ${button.textContent}…`);
  castVote(button.value)
    .then((voteId) => {
      const store = storage();
      if (store !== null) rememberVote(store, electionId, { voteId, candidate: button.textContent, at: Date.now() });
      showVoteResult(true, `Your vote for ${button.textContent} was accepted for counting.`);
      if (latest !== null) renderReceipts(officialResult(latest.official, election.candidates) !== null);
    })
    .catch((error) => showVoteResult(false, error.message))
    .finally(() => {
      for (const b of buttons) b.disabled = false;
    });
});

// ---- start

const wsBase = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}`;
const live = connectLive({
  wsUrl: `${wsBase}${api}/live`,
  sseUrl: `${api}/events`,
  WebSocket: window.WebSocket,
  EventSource: window.EventSource,
  isOffline: () => navigator.onLine === false,
  onMessage,
  onState,
});
$('retry').addEventListener('click', () => live.retryNow());
window.addEventListener('online', () => live.retryNow());
setInterval(() => {
  if (latest !== null) renderChart();
}, 1_000);
loadElection()
  .then(() => {
    // A new version (closed early, renamed) and the window's word ("open", "closed") keep current.
    setInterval(() => void loadElection().catch(() => undefined), 60_000);
    return setUpVoteForm();
  })
  .catch((error) => {
    showProblem(error.message);
    if (error instanceof UnknownElection) {
      live.stop();
      onState({ state: 'offline', transport: 'websocket' });
      $('retry').hidden = true;
    }
  });
