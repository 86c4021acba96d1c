// Live updates for a page that asks for them (<body data-live="...">): one EventSource per page on
// /api/v1/fleet/events. Overview counts arrive ready-made; for anything else the page re-reads its own
// URL and swaps the regions marked data-region, so what appears live is exactly what a reload shows.
const page = document.body.dataset.live;
const status = document.querySelector<HTMLElement>('[data-live-status]');
const agentName = document.body.dataset.agent;

const REFRESH_AT_MOST_EVERY_MS = 2000;
let refreshing = false;
let refreshAgain = false;
let lastRefresh = 0;

async function refreshRegions(): Promise<void> {
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = true;
  try {
    const wait = lastRefresh + REFRESH_AT_MOST_EVERY_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    lastRefresh = Date.now();
    const response = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
    if (!response.ok) return;
    const next = new DOMParser().parseFromString(await response.text(), 'text/html');
    for (const region of document.querySelectorAll<HTMLElement>('[data-region]')) {
      const fresh = next.querySelector<HTMLElement>(`[data-region="${region.dataset.region}"]`);
      // Keep open <details> open: the user is reading them.
      if (fresh && fresh.innerHTML !== region.innerHTML && !region.querySelector('details[open]')) region.innerHTML = fresh.innerHTML;
    }
    document.body.dataset.refreshed = String(Date.now());
  } finally {
    refreshing = false;
    if (refreshAgain) {
      refreshAgain = false;
      void refreshRegions();
    }
  }
}

function setCount(key: string, value: number): void {
  const cell = document.querySelector<HTMLElement>(`[data-count="${key}"]`);
  if (cell && cell.textContent !== String(value)) {
    cell.textContent = String(value);
    cell.classList.add('new');
  }
}

function onEvent(type: string, data: Record<string, unknown>): void {
  if (type === 'overview' && page === 'overview') {
    for (const [state, n] of Object.entries(data.states as Record<string, number>)) setCount(state, n);
    setCount('pending_approval', data.pendingApproval as number);
  }
  if (type === 'agents') {
    const names = new Set([...(data.heartbeats as string[]), ...(data.reports as string[])]);
    if (page === 'agent' && agentName && names.has(agentName)) void refreshRegions();
    if (page === 'agents') {
      for (const row of document.querySelectorAll<HTMLElement>('tr[data-agent]')) {
        const seen = row.querySelector<HTMLElement>('[data-last-seen]');
        if (seen && names.has(row.dataset.agent!)) {
          seen.textContent = 'just now';
          seen.setAttribute('datetime', String(data.at));
        }
      }
    }
  }
  if (type === 'reconciliation' && (page === 'overview' || page === 'reconciliations')) void refreshRegions();
  if (type === 'queue' && page === 'queue') void refreshRegions();
}

function connect(delayMs = 1000): void {
  const source = new EventSource('/api/v1/fleet/events');
  source.addEventListener('open', () => {
    delayMs = 1000;
    if (status) status.textContent = 'Live: updates appear without reloading.';
    document.body.dataset.connected = 'true';
  });
  source.addEventListener('error', () => {
    document.body.dataset.connected = 'false';
    if (status) status.textContent = 'Live updates paused; reconnecting…';
    // EventSource retries by itself unless the server refused the stream (a 401 after logout, a
    // restart mid-handshake): then start over, waiting longer each time.
    if (source.readyState === EventSource.CLOSED) setTimeout(() => connect(Math.min(delayMs * 2, 30_000)), delayMs);
  });
  for (const type of ['overview', 'agents', 'reconciliation', 'queue']) {
    source.addEventListener(type, (event) => onEvent(type, JSON.parse((event as MessageEvent<string>).data)));
  }
}

if (page && 'EventSource' in window) connect();
