// The list of elections: /. Each links to its live page.
import { windowState } from './live-model.js';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const status = document.getElementById('status');
const list = document.getElementById('elections');

async function load() {
  const res = await fetch('/v1/elections', { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`Could not load the elections (HTTP ${res.status}).`);
  const { elections } = await res.json();
  const now = Date.now();
  list.replaceChildren(
    ...elections.map((e) => {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = `/elections/${encodeURIComponent(e.electionId)}`;
      a.textContent = e.title;
      const when = document.createElement('div');
      when.className = 'muted';
      when.textContent = `${windowState(e, now)} · ${dateFormat.format(e.opensAt)} – ${dateFormat.format(e.closesAt)}`;
      li.append(a, when);
      return li;
    }),
  );
  status.textContent = elections.length === 0 ? 'There are no elections yet.' : `${elections.length} election${elections.length === 1 ? '' : 's'}.`;
}

load().catch((error) => {
  status.textContent = error.message;
});
