// Admin dashboard: plain browser JavaScript, no build step. Every piece of data reaches the page through
// textContent or attributes set with setAttribute (links only when http/https): never through innerHTML.
//
// Live progress comes from the server-sent events of GET /api/events, read with fetch so the admin token travels in
// the Authorization header (EventSource cannot send headers, and a token in a URL ends up in logs). When the stream
// is down, the page polls the API instead until it can reconnect.
'use strict';

(function dashboard() {
  const TOKEN_KEY = 'tableau-export.adminToken';
  const REFRESH_MS = 15000;
  const POLL_MS = 2000;
  const RECONNECT_MS = 5000;
  const CHART_RUNS = 30;
  const STAGES = ['resolve', 'fetch', 'type', 'download', 'write', 'upload'];
  const STAGE_LABEL = {
    resolve: 'Sign in & find views',
    fetch: 'Download',
    type: 'Type columns',
    download: 'Team workbook',
    write: 'Write',
    upload: 'Deliver',
  };

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    exports: [],
    selectedId: undefined,
    /** exportId -> { runId, startedAt (ms) } for runs this page started and waits for. */
    syncing: new Map(),
    /** runId -> { run (LiveRunView), at (ms, when received) } */
    live: new Map(),
    liveConnected: false,
    stream: undefined,
    openRunId: undefined,
    openRunDetail: undefined,
    highlightRunId: undefined,
    historyRuns: [],
    chartRuns: [],
    refreshTimer: undefined,
    pollTimer: undefined,
    tickTimer: undefined,
  };

  const $ = (id) => document.getElementById(id);

  /** Creates an element; string children become text nodes (escaped by the DOM). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }

  function safeUrl(url) {
    if (typeof url !== 'string') return undefined;
    try {
      const parsed = new URL(url);
      return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
    } catch {
      return undefined;
    }
  }

  // ---- formatting ---------------------------------------------------------------------------------------------
  const numberFormat = new Intl.NumberFormat('en-US');
  const relativeFormat = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  // History times are in the viewer's zone, with the zone named; schedules and deliveries in the export's zone.
  const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'short',
  });

  function formatRelative(iso) {
    if (!iso) return '';
    const diffSec = (Date.parse(iso) - Date.now()) / 1000;
    const abs = Math.abs(diffSec);
    if (abs < 45) return diffSec < 0 ? 'just now' : 'in a moment';
    if (abs < 3600) return relativeFormat.format(Math.round(diffSec / 60), 'minute');
    if (abs < 86400) return relativeFormat.format(Math.round(diffSec / 3600), 'hour');
    return relativeFormat.format(Math.round(diffSec / 86400), 'day');
  }

  /** `in 14 h`, `in 25 min`, `in 3 days`: short, for the next run. */
  function formatIn(iso) {
    const minutes = Math.round((Date.parse(iso) - Date.now()) / 60000);
    if (minutes < 1) return 'in a moment';
    if (minutes < 60) return `in ${minutes} min`;
    if (minutes < 48 * 60) return `in ${Math.round(minutes / 60)} h`;
    return `in ${Math.round(minutes / 1440)} days`;
  }

  function formatDateTime(iso) {
    return iso ? dateTimeFormat.format(new Date(iso)) : '';
  }

  /** `Tue 06:00 EST` (within a week), else `Tue 12 May, 06:00 EST`: a time in the export's own zone. */
  function formatZoned(iso, timeZone) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    const near = Math.abs(date.getTime() - Date.now()) < 6 * 86400000;
    let parts;
    try {
      parts = new Intl.DateTimeFormat('en-GB', {
        timeZone,
        weekday: 'short',
        day: near ? undefined : 'numeric',
        month: near ? undefined : 'short',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
        timeZoneName: 'short',
      }).formatToParts(date);
    } catch {
      return formatDateTime(iso);
    }
    const get = (type) => (parts.find((p) => p.type === type) || {}).value || '';
    const day = near ? get('weekday') : `${get('weekday')} ${get('day')} ${get('month')},`;
    return `${day} ${get('hour')}:${get('minute')} ${zoneName(date, timeZone) || get('timeZoneName')}`;
  }

  /** `EST`, `CET`: the abbreviation people know (US English has America's, British English Europe's), else `GMT+1`. */
  function zoneName(date, timeZone) {
    let fallback = '';
    for (const locale of ['en-US', 'en-GB']) {
      try {
        const part = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' })
          .formatToParts(date)
          .find((p) => p.type === 'timeZoneName');
        const name = part ? part.value : '';
        if (name && !/^(GMT|UTC)[+-]/.test(name)) return name;
        fallback = fallback || name;
      } catch {
        return fallback;
      }
    }
    return fallback;
  }

  function formatDuration(ms) {
    if (ms === null || ms === undefined) return '–';
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
    const s = Math.round(ms / 1000);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min ${String(s % 60).padStart(2, '0')} s`;
  }

  /** `12 s`, `4 min 05 s`: an elapsed time that ticks. */
  function formatElapsed(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `${s} s`;
    return formatDuration(s * 1000);
  }

  function formatBytes(bytes) {
    if (!bytes) return '–';
    const units = ['B', 'KB', 'MB', 'GB'];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
  }

  function formatRows(n) {
    return `${numberFormat.format(n)} row${n === 1 ? '' : 's'}`;
  }

  function formatTrigger(trigger) {
    if (!trigger) return '';
    if (trigger.kind === 'manual') return `manual (${trigger.by})`;
    if (trigger.kind === 'schedule') return 'scheduled';
    if (trigger.kind === 'cli') return 'command line';
    return trigger.kind;
  }

  function badge(status, text) {
    const label =
      text ||
      { succeeded: 'Succeeded', failed: 'Failed', running: 'Running', skipped: 'Skipped', unchanged: 'Unchanged' }[
        status
      ] ||
      status;
    return el('span', { class: `badge ${status}` }, label);
  }

  function timeCell(iso, label, extra) {
    return el(
      'td',
      { class: 'nowrap', 'data-label': label },
      el('time', { datetime: iso, title: formatDateTime(iso) }, formatRelative(iso)),
      extra,
    );
  }

  /** An element whose text is the time elapsed since `sinceMs`, kept current by the ticker. */
  function elapsed(sinceMs) {
    return el('span', { class: 'elapsed', 'data-since': String(sinceMs) }, formatElapsed(Date.now() - sinceMs));
  }

  // ---- API ----------------------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path, options) {
    const response = await fetch(path, {
      method: (options && options.method) || 'GET',
      headers: { authorization: `Bearer ${state.token}`, accept: 'application/json' },
      cache: 'no-store',
    });
    let body;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    if (response.status === 401) {
      signOut('That token was not accepted. Enter a valid admin token.');
      throw new ApiError(401, 'UNAUTHORIZED', 'not signed in');
    }
    if (!response.ok) {
      const error = body && body.error ? body.error : { code: 'HTTP_' + response.status, message: response.statusText };
      throw new ApiError(response.status, error.code, error.message);
    }
    return body;
  }

  // ---- sign in / out --------------------------------------------------------------------------------------------
  function showSignIn(message) {
    $('app').hidden = true;
    $('sign-out').hidden = true;
    $('live-state').hidden = true;
    $('sign-in').hidden = false;
    $('sign-in-error').textContent = message || '';
    $('token').value = '';
    $('token').focus();
  }

  function signOut(message) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    clearInterval(state.refreshTimer);
    clearInterval(state.tickTimer);
    clearTimeout(state.pollTimer);
    state.refreshTimer = undefined;
    stopStream();
    showSignIn(message);
  }

  async function signIn(token) {
    state.token = token;
    try {
      await refreshExports();
    } catch (error) {
      if (error.status !== 401) showSignIn(`Could not reach the service: ${error.message}`);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    $('sign-in').hidden = true;
    $('app').hidden = false;
    $('sign-out').hidden = false;
    clearInterval(state.refreshTimer);
    state.refreshTimer = setInterval(() => {
      refreshExports().catch(showError);
    }, REFRESH_MS);
    clearInterval(state.tickTimer);
    state.tickTimer = setInterval(tick, 1000);
    startStream();
    await openDeepLink();
  }

  // ---- live progress: the event stream, and polling while it is down -------------------------------------------
  function setLiveState(connected) {
    state.liveConnected = connected;
    const badgeEl = $('live-state');
    badgeEl.hidden = false;
    badgeEl.className = `live-state ${connected ? 'on' : 'off'}`;
    badgeEl.textContent = connected ? 'Live' : 'Polling';
    badgeEl.title = connected
      ? 'Progress arrives as it happens (server-sent events)'
      : 'The live stream is not available; the page asks the service every few seconds';
    if (!connected) schedulePoll();
  }

  function stopStream() {
    if (state.stream) state.stream.abort();
    state.stream = undefined;
    state.liveConnected = false;
  }

  async function startStream() {
    stopStream();
    const controller = new AbortController();
    state.stream = controller;
    try {
      const response = await fetch('/api/events', {
        headers: { authorization: `Bearer ${state.token}`, accept: 'text/event-stream' },
        cache: 'no-store',
        signal: controller.signal,
      });
      if (response.status === 401) return signOut('That token was not accepted. Enter a valid admin token.');
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      setLiveState(true);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          handleEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // Network error, proxy that buffers or drops the stream, or sign-out: fall back to polling below.
    }
    if (state.stream !== controller || !state.token) return;
    setLiveState(false);
    setTimeout(() => {
      if (state.stream === controller && state.token) startStream();
    }, RECONNECT_MS);
  }

  function handleEvent(frame) {
    let event = 'message';
    const data = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (data.length === 0) return;
    let payload;
    try {
      payload = JSON.parse(data.join('\n'));
    } catch {
      return;
    }
    if (event === 'live') {
      state.live.clear();
      for (const run of payload.runs || []) state.live.set(run.runId, { run, at: Date.now() });
      renderAllProgress();
    } else if (event === 'progress') {
      state.live.set(payload.runId, { run: payload, at: Date.now() });
      renderProgressOf(payload.exportId);
    } else if (event === 'ended') {
      state.live.delete(payload.runId);
      runEnded(payload.exportId, payload.runId);
    }
  }

  /** Polling fallback: while the stream is down, the exports (with their progress) every few seconds. */
  function schedulePoll() {
    clearTimeout(state.pollTimer);
    state.pollTimer = setTimeout(async () => {
      if (state.liveConnected || !state.token) return;
      const running = state.exports.some((e) => e.running) || state.syncing.size > 0;
      if (running) await refreshExports().catch(() => undefined);
      schedulePoll();
    }, POLL_MS);
  }

  /** Keeps elapsed times current without re-rendering (focus and selections stay where they are). */
  function tick() {
    for (const node of document.querySelectorAll('[data-since]')) {
      node.textContent = formatElapsed(Date.now() - Number(node.getAttribute('data-since')));
    }
  }

  function liveOf(exp) {
    let found;
    for (const { run, at } of state.live.values()) {
      if (run.exportId !== exp.id) continue;
      if (exp.runningRunId && run.runId !== exp.runningRunId && found) continue;
      found = { run, at };
    }
    return found;
  }

  // ---- exports ------------------------------------------------------------------------------------------------
  async function refreshExports() {
    const body = await api('/api/exports');
    state.exports = body.exports;
    for (const exp of state.exports) {
      if (exp.progress) state.live.set(exp.progress.runId, { run: exp.progress, at: Date.now() });
      const following = state.syncing.get(exp.id);
      // A run this page waits for whose export is no longer running ended, even if its event was missed.
      if (following && !exp.running) runEnded(exp.id, following.runId);
    }
    if (state.selectedId === undefined || !state.exports.some((e) => e.id === state.selectedId)) {
      state.selectedId = state.exports.length > 0 ? state.exports[0].id : undefined;
      if (state.selectedId !== undefined) loadHistory().catch(showError);
    }
    renderExports();
    $('refreshed').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  }

  function renderExports() {
    const tbody = $('exports').querySelector('tbody');
    tbody.replaceChildren(...state.exports.map(exportRow));
    $('no-exports').hidden = state.exports.length > 0;
    $('export-count').textContent = `${state.exports.length} export${state.exports.length === 1 ? '' : 's'}`;
  }

  function renderAllProgress() {
    for (const exp of state.exports) renderProgressOf(exp.id);
  }

  /** Re-renders the "Now" cell and the button of one export (a progress event touches nothing else). */
  function renderProgressOf(exportId) {
    const exp = state.exports.find((e) => e.id === exportId);
    const row = document.querySelector(`#exports tr[data-export-id="${CSS.escape(exportId)}"]`);
    if (!exp || !row) return;
    // A run the list does not know about yet (started elsewhere): it is running now.
    if (!exp.running && liveOf(exp)) exp.running = true;
    row.replaceChildren(...exportCells(exp));
  }

  function exportRow(exp) {
    return el(
      'tr',
      {
        'data-export-id': exp.id,
        class: exp.id === state.selectedId ? 'selected' : undefined,
        onclick: () => selectExport(exp.id),
      },
      exportCells(exp),
    );
  }

  function exportCells(exp) {
    const syncing = state.syncing.get(exp.id);
    const busy = Boolean(syncing) || exp.running;
    const button = el(
      'button',
      {
        type: 'button',
        class: 'sync',
        disabled: busy,
        'aria-label': `Sync ${exp.id} now`,
        onclick: (event) => {
          event.stopPropagation();
          syncNow(exp.id);
        },
      },
      busy ? 'Syncing…' : 'Sync now',
    );
    return [
      el(
        'td',
        { 'data-label': 'Export' },
        el('span', { class: 'export-id' }, exp.id),
        el('span', { class: 'sub' }, exp.destination.label),
      ),
      el('td', { class: 'now-cell', 'data-label': 'Now' }, busy ? progressBlock(exp, syncing) : lastRunBlock(exp)),
      el('td', { 'data-label': 'Teammates have' }, teammatesBlock(exp)),
      nextRunCell(exp),
      el('td', { class: 'action-col' }, button),
    ];
  }

  /** Stage, rows, bytes and elapsed time of the run in progress; stalled when it went quiet too long. */
  function progressBlock(exp, syncing) {
    const found = liveOf(exp);
    if (!found) {
      const since = syncing ? syncing.startedAt : Date.now();
      return el(
        'div',
        { class: 'progress-block' },
        el(
          'div',
          { class: 'progress-head' },
          badge('running', 'Running'),
          ' ',
          el('span', { class: 'muted' }, 'starting… '),
          elapsed(since),
        ),
        el('span', { class: 'progress', role: 'progressbar', 'aria-label': 'Sync in progress' }),
      );
    }
    const run = found.run;
    const quietMs = run.quietMs + (Date.now() - found.at);
    const stalled = run.stalled || (run.stageTimeoutMs !== undefined && quietMs > run.stageTimeoutMs);
    // Only an update-mode export downloads the team's workbook before writing.
    const stages = exp.mode === 'update' ? STAGES : STAGES.filter((s) => s !== 'download');
    const index = stages.indexOf(run.stage);
    const steps = el(
      'ol',
      { class: 'stages', 'aria-label': 'Stages' },
      stages.map((s, i) =>
        el(
          'li',
          {
            class: i < index ? 'done' : i === index ? 'current' : undefined,
            'aria-current': i === index ? 'step' : undefined,
          },
          s,
        ),
      ),
    );
    const { text, fraction } = describeProgress(run);
    const bar =
      fraction === undefined
        ? el('span', { class: 'progress', role: 'progressbar', 'aria-label': `${run.stage} in progress` })
        : el('progress', {
            class: 'meter',
            max: '100',
            value: String(Math.round(fraction * 100)),
            'aria-label': `${run.stage}: ${Math.round(fraction * 100)}%`,
          });
    // Elapsed since the run started, on this browser's clock (the server's elapsed time when it sent the update).
    const startedHere = found.at - run.elapsedMs;
    return el(
      'div',
      { class: `progress-block${stalled ? ' stalled' : ''}` },
      el(
        'div',
        { class: 'progress-head' },
        stalled ? badge('stalled', 'Stalled') : badge('running', 'Running'),
        ' ',
        el('span', { class: 'stage-name' }, STAGE_LABEL[run.stage] || run.stage),
        ' · ',
        elapsed(startedHere),
      ),
      steps,
      el('span', { class: 'progress-text' }, text),
      bar,
      stalled
        ? el(
            'span',
            { class: 'sub warn-text' },
            `No progress for ${formatDuration(quietMs)} (the ${run.stage} stage may stay quiet ${formatDuration(run.stageTimeoutMs)}): its process may be stuck or gone.`,
          )
        : null,
      run.attempt && run.attempt > 1
        ? el('span', { class: 'sub' }, `attempt ${run.attempt}${run.worker ? ` on ${run.worker}` : ''}`)
        : run.worker
          ? el('span', { class: 'sub' }, `on ${run.worker}`)
          : null,
    );
  }

  /** `Opportunities (1/3): 20,000 of 30,000 rows`, `1.2 of 2.4 MB`, and how far along, 0..1, when known. */
  function describeProgress(run) {
    const sheet = run.sheet ? `${run.sheet}${run.sheetCount > 1 ? ` (${run.sheetIndex}/${run.sheetCount})` : ''}` : '';
    if (run.stage === 'upload') {
      if (run.bytesTotal) {
        return {
          text: `${formatBytes(run.bytesSent || 0)} of ${formatBytes(run.bytesTotal)} uploaded`,
          fraction: Math.min(1, (run.bytesSent || 0) / run.bytesTotal),
        };
      }
      return { text: 'delivering the workbook', fraction: undefined };
    }
    if ((run.stage === 'type' || run.stage === 'write') && (run.rows > 0 || run.rowsTotal !== undefined)) {
      const rows =
        run.rowsTotal === undefined
          ? `${numberFormat.format(run.rows)} rows so far`
          : `${numberFormat.format(run.rows)} of ${formatRows(run.rowsTotal)}`;
      return {
        text: `${sheet}: ${rows}`,
        fraction: run.rowsTotal ? Math.min(1, run.rows / run.rowsTotal) : undefined,
      };
    }
    return { text: sheet, fraction: undefined };
  }

  /** How the last run went, in full: a failure shows its whole error and what teammates still have. */
  function lastRunBlock(exp) {
    const last = exp.lastRun;
    if (!last) return el('span', { class: 'badge never' }, 'Never run');
    const parts = [
      el(
        'div',
        { class: 'progress-head' },
        badge(last.status),
        ' ',
        el('time', { datetime: last.startedAt, title: formatDateTime(last.startedAt) }, formatRelative(last.startedAt)),
      ),
      el(
        'span',
        { class: 'sub' },
        `${formatTrigger(last.trigger)} · ${formatDuration(last.durationMs)}${last.attempts > 1 ? ` · ${last.attempts} attempts` : ''}`,
      ),
    ];
    if (last.status === 'failed' && last.error) {
      parts.push(el('span', { class: 'error-text block' }, `${last.error.code}: ${last.error.message}`));
      const have = exp.teammatesHave;
      parts.push(
        el(
          'span',
          { class: 'still-have' },
          burstDelivery(last) ||
            (have
              ? `Teammates still have the workbook of ${formatZoned(have.deliveredAt, exp.timezone)} (${formatRows(have.rows)}).`
              : 'Teammates have no workbook from this export yet.'),
        ),
        el(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'aria-label': `Run ${exp.id} again`,
            onclick: (event) => {
              event.stopPropagation();
              syncNow(exp.id);
            },
          },
          'Run again',
        ),
      );
    } else if (last.note) {
      parts.push(el('span', { class: 'sub note' }, last.note));
    }
    return parts;
  }

  /** A burst that failed in part: which values got their new file, and which kept the one they had. */
  function burstDelivery(last) {
    const done = (last.parts || []).filter((p) => p.status === 'succeeded' || p.status === 'unchanged');
    const failed = (last.parts || []).filter((p) => p.status === 'failed');
    if (done.length === 0 || failed.length === 0) return null;
    return `Delivered for ${done.map((p) => p.value).join(', ')}; ${failed.map((p) => p.value).join(', ')} kept the file they had, if any (\`run --failed\` re-runs only those).`;
  }

  /** The workbook the last successful delivery left: when, how many rows, and where to open it. */
  function teammatesBlock(exp) {
    const have = exp.teammatesHave;
    const link = fileLink(exp, have);
    if (!have) return el('span', { class: 'muted' }, 'No file yet');
    return [
      el('span', { class: 'delivered' }, `Workbook of ${formatZoned(have.deliveredAt, exp.timezone)}`),
      el('span', { class: 'sub' }, `${formatRows(have.rows)} · ${formatBytes(have.bytes)}`),
      link,
      exp.destination.path ? el('span', { class: 'sub path' }, exp.destination.path) : null,
    ];
  }

  function fileLink(exp, have) {
    if (exp.destination.kind === 'local') {
      if (!have) return null;
      return el(
        'button',
        {
          type: 'button',
          class: 'link-like',
          'aria-label': `Download ${exp.destination.fileName || 'the workbook'}`,
          onclick: (event) => {
            event.stopPropagation();
            download(exp.id);
          },
        },
        'Download',
      );
    }
    const webUrl = safeUrl((have && have.webUrl) || exp.destination.webUrl);
    if (!webUrl) return null;
    return el(
      'a',
      { href: webUrl, target: '_blank', rel: 'noopener noreferrer', onclick: (e) => e.stopPropagation() },
      'Open file',
    );
  }

  function nextRunCell(exp) {
    if (!exp.nextRun) {
      return el('td', { class: 'muted', 'data-label': 'Next run' }, exp.schedule ? 'not scheduled' : 'manual only');
    }
    return el(
      'td',
      { 'data-label': 'Next run' },
      el(
        'time',
        { datetime: exp.nextRun, title: formatDateTime(exp.nextRun) },
        `${formatZoned(exp.nextRun, exp.timezone)}, ${formatIn(exp.nextRun)}`,
      ),
      el('span', { class: 'sub mono', title: `cron, in ${exp.timezone}` }, `${exp.schedule} (${exp.timezone})`),
    );
  }

  function selectExport(id) {
    if (state.selectedId === id) return;
    state.selectedId = id;
    state.openRunId = undefined;
    renderExports();
    loadHistory().catch(showError);
  }

  // ---- sync now, run again, download ---------------------------------------------------------------------------
  async function syncNow(exportId) {
    hideBanner();
    try {
      const body = await api(`/api/exports/${encodeURIComponent(exportId)}/run`, { method: 'POST' });
      state.syncing.set(exportId, { runId: body.runId, startedAt: Date.now() });
      state.selectedId = exportId;
      state.highlightRunId = body.runId;
      const exp = state.exports.find((e) => e.id === exportId);
      if (exp) {
        exp.running = true;
        exp.runningRunId = body.runId;
      }
      renderExports();
      await loadHistory();
      if (!state.liveConnected) schedulePoll();
    } catch (error) {
      if (error.status === 409) showBanner(`${exportId} is already running. Its progress shows below.`, 'info');
      else if (error.status !== 401) showError(error);
      await refreshExports().catch(() => undefined);
    }
  }

  /** A run ended (its event, or the list says its export stopped): show how, and refresh what it changed. */
  async function runEnded(exportId, runId) {
    const following = state.syncing.get(exportId);
    if (following && following.runId === runId) {
      state.syncing.delete(exportId);
      try {
        announce(await api(`/api/runs/${encodeURIComponent(runId)}`));
      } catch (error) {
        if (error.status !== 401) showError(error);
      }
    }
    await refreshExports().catch(showError);
    if (state.selectedId === exportId) await loadHistory().catch(showError);
  }

  function announce(run) {
    const what = `Sync of ${run.exportId}`;
    if (run.status === 'running') return;
    if (run.status === 'failed') {
      const exp = state.exports.find((e) => e.id === run.exportId);
      const at = (iso) => (exp ? formatZoned(iso, exp.timezone) : formatDateTime(iso));
      const still = run.destinationHolds
        ? ` Teammates still have the workbook of ${at(run.destinationHolds.deliveredAt)} (${formatRows(run.destinationHolds.rows)}).`
        : '';
      showBanner(
        `${what} failed: ${run.error ? `${run.error.code}: ${run.error.message}` : 'no error recorded'}.${still}`,
        'error',
      );
    } else {
      showBanner(
        `${what} ${run.status}: ${numberFormat.format(run.rows)} rows in ${formatDuration(run.durationMs)}.`,
        'info',
      );
    }
  }

  /** Downloads a local export's workbook through a short-lived link (the token never goes into a URL). */
  async function download(exportId) {
    try {
      const link = await api(`/api/exports/${encodeURIComponent(exportId)}/download`, { method: 'POST' });
      const a = el('a', { href: link.url, download: link.fileName, class: 'visually-hidden' });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (error) {
      if (error.status !== 401) showError(error);
    }
  }

  // ---- history ------------------------------------------------------------------------------------------------
  async function loadHistory() {
    const id = state.selectedId;
    $('history-title').textContent = id ? `Run history: ${id}` : 'Run history';
    if (!id) return;
    const status = $('filter-status').value;
    const trigger = $('filter-trigger').value;
    const query = new URLSearchParams({ limit: '50' });
    if (status) query.set('status', status);
    if (trigger) query.set('trigger', trigger);
    const filtered = Boolean(status || trigger);
    const path = `/api/exports/${encodeURIComponent(id)}/runs`;
    const [list, all] = await Promise.all([api(`${path}?${query}`), filtered ? api(`${path}?limit=50`) : undefined]);
    if (state.selectedId !== id) return;
    state.historyRuns = list.runs;
    renderChart((all || list).runs);
    renderHistory();
  }

  /** Rows (bars) and duration (line) of the last runs, oldest first; failed runs in red. Inline SVG, no library. */
  function renderChart(runs) {
    const figure = $('history-chart');
    const shown = runs
      .filter((r) => r.status !== 'running' && r.status !== 'skipped')
      .slice(0, CHART_RUNS)
      .reverse();
    const old = figure.querySelector('svg');
    if (old) old.remove();
    figure.hidden = shown.length === 0;
    if (shown.length === 0) return;
    $('chart-count').textContent = shown.length === 1 ? 'The last run' : `Last ${shown.length} runs`;
    state.chartRuns = runs;
    // Drawn at the figure's own width, one unit a pixel: bars, dots and labels keep their shape at any width.
    const W = Math.max(240, Math.round(figure.clientWidth - 32));
    const H = 120;
    const top = 6;
    const bottom = 18;
    const left = 4;
    const right = 4;
    const plotH = H - top - bottom;
    // Always room for the full number of runs, newest on the right: a short history shows as narrow bars.
    const slot = (W - left - right) / CHART_RUNS;
    const offset = left + (CHART_RUNS - shown.length) * slot;
    const maxRows = Math.max(1, ...shown.map((r) => r.rows));
    const maxMs = Math.max(1, ...shown.map((r) => r.durationMs || 0));
    const chart = svg('svg', {
      viewBox: `0 0 ${W} ${H}`,
      width: W,
      height: H,
      role: 'img',
      'aria-label': `Rows and duration of the last ${shown.length} runs`,
    });
    chart.append(svg('line', { x1: left, x2: W - right, y1: top + plotH, y2: top + plotH, class: 'axis' }));
    const points = [];
    shown.forEach((r, i) => {
      const x = offset + i * slot;
      const barW = Math.max(2, slot * 0.6);
      const failed = r.status === 'failed';
      const h = failed ? 3 : Math.max(1, (r.rows / maxRows) * plotH);
      const bar = svg('rect', {
        x: (x + (slot - barW) / 2).toFixed(1),
        y: (top + plotH - h).toFixed(1),
        width: barW.toFixed(1),
        height: h.toFixed(1),
        class: `bar ${r.status}`,
        'data-run-id': r.runId,
      });
      bar.append(
        svg(
          'title',
          {},
          `${formatDateTime(r.startedAt)}: ${r.status}, ${failed ? 'no rows delivered' : formatRows(r.rows)}, ${formatDuration(r.durationMs)}`,
        ),
      );
      chart.append(bar);
      if (r.durationMs !== undefined && r.durationMs !== null) {
        points.push([x + slot / 2, top + plotH - (r.durationMs / maxMs) * plotH]);
      }
    });
    if (points.length > 1)
      chart.append(
        svg('polyline', {
          points: points.map((p) => p.map((v) => v.toFixed(1)).join(',')).join(' '),
          class: 'duration',
        }),
      );
    for (const [x, y] of points)
      chart.append(svg('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: 2.5, class: 'duration-dot' }));
    // Scale notes under the axis, where no bar can hide them.
    chart.append(
      svg('text', { x: left, y: H - 3, class: 'chart-label' }, `rows: up to ${numberFormat.format(maxRows)}`),
    );
    chart.append(
      svg('text', { x: W - right, y: H - 3, class: 'chart-label end' }, `duration: up to ${formatDuration(maxMs)}`),
    );
    figure.prepend(chart);
  }

  function renderHistory() {
    const runs = state.historyRuns;
    const tbody = $('history').querySelector('tbody');
    const rows = [];
    for (const run of runs) {
      rows.push(historyRow(run));
      if (state.openRunId === run.runId) rows.push(detailRow(state.openRunDetail || run));
    }
    tbody.replaceChildren(...rows);
    const filtered = $('filter-status').value || $('filter-trigger').value;
    $('no-history').textContent = filtered ? 'No run matches these filters.' : 'No runs yet.';
    $('no-history').hidden = runs.length > 0;
  }

  function historyRow(run) {
    const problem = run.error
      ? el('span', { class: 'error-text' }, `${run.error.code}: ${run.error.message}`)
      : run.note
        ? el('span', { class: 'note' }, run.note)
        : run.warnings.length > 0
          ? el(
              'span',
              { class: 'warn-text' },
              run.warnings.length === 1 ? run.warnings[0] : `${run.warnings.length} warnings: ${run.warnings[0]} …`,
            )
          : null;
    const retried = (run.attempts || []).filter((a) => a.attempt !== run.attempt);
    const statusCell = el('td', { 'data-label': 'Status' }, badge(run.status));
    if (retried.length > 0) {
      statusCell.append(
        el(
          'span',
          { class: 'sub' },
          `attempt ${run.attempt}${run.worker ? ` on ${run.worker}` : ''}; ${retried
            .map(
              (a) =>
                `${a.attempt} ${a.error && a.error.code === 'INTERRUPTED' ? 'interrupted' : a.status}${a.worker ? ` on ${a.worker}` : ''}`,
            )
            .join(', ')}`,
        ),
      );
    }
    const again =
      run.status === 'failed'
        ? el(
            'button',
            {
              type: 'button',
              class: 'secondary',
              'aria-label': `Run ${run.exportId} again`,
              disabled: Boolean(state.syncing.get(run.exportId)),
              onclick: (event) => {
                event.stopPropagation();
                syncNow(run.exportId);
              },
            },
            'Run again',
          )
        : null;
    return el(
      'tr',
      {
        class: `run-row${run.runId === state.highlightRunId ? ' highlight' : ''}`,
        'data-run-id': run.runId,
        'aria-expanded': String(state.openRunId === run.runId),
        onclick: () => toggleRun(run),
      },
      timeCell(run.startedAt, 'Started'),
      el('td', { class: 'nowrap', 'data-label': 'Trigger' }, formatTrigger(run.trigger)),
      statusCell,
      el(
        'td',
        { class: 'num', 'data-label': 'Duration' },
        run.status === 'running' ? elapsed(Date.parse(run.startedAt)) : formatDuration(run.durationMs),
      ),
      el(
        'td',
        { class: 'num', 'data-label': 'Rows' },
        run.status === 'succeeded' || run.status === 'unchanged' ? numberFormat.format(run.rows) : '–',
      ),
      el('td', { class: 'num', 'data-label': 'Size' }, formatBytes(run.bytes)),
      el('td', { class: 'details-cell', 'data-label': 'Error / notes' }, problem),
      el('td', { class: 'action-col' }, again),
    );
  }

  async function toggleRun(run) {
    if (state.openRunId === run.runId) {
      state.openRunId = undefined;
      state.openRunDetail = undefined;
      return renderHistory();
    }
    state.openRunId = run.runId;
    state.openRunDetail = undefined;
    renderHistory();
    try {
      // The detail says what the destination holds when this run did not deliver.
      state.openRunDetail = await api(`/api/runs/${encodeURIComponent(run.runId)}`);
      if (state.openRunId === run.runId) renderHistory();
    } catch (error) {
      if (error.status !== 401) showError(error);
    }
  }

  function detailRow(run) {
    const exp = state.exports.find((e) => e.id === run.exportId);
    const zone = exp ? exp.timezone : undefined;
    const facts = [
      ['Run id', run.runId],
      ['Started', formatDateTime(run.startedAt)],
      ['Finished', run.finishedAt ? formatDateTime(run.finishedAt) : '–'],
      ['Destination', run.destination ? run.destination.location : '–'],
    ];
    if (run.destination && run.destination.deliveredAt)
      facts.push([
        'Delivered',
        zone ? formatZoned(run.destination.deliveredAt, zone) : formatDateTime(run.destination.deliveredAt),
      ]);
    if (run.note) facts.push(['Note', run.note]);
    for (const a of run.attempts || []) {
      facts.push([
        `Attempt ${a.attempt}`,
        `${a.status}${a.worker ? ` on ${a.worker}` : ''}, ${formatDateTime(a.startedAt)}${a.finishedAt ? ` → ${formatDateTime(a.finishedAt)}` : ''}${a.error ? ` (${a.error.code}: ${a.error.message})` : ''}`,
      ]);
    }
    if (run.burst)
      facts.push([
        'Burst',
        `by ${run.burst.by} into ${run.burst.into}: ${run.burst.values.length} values (${run.burst.discovered ? 'read from the data' : 'listed'})`,
      ]);
    // A burst run lists its parts instead of every sheet of every part.
    for (const part of run.parts || []) facts.push([`Part ${part.value}`, describePart(part)]);
    if (!run.parts)
      for (const sheet of run.sheets || [])
        facts.push([`Sheet ${sheet.sheet}`, `${numberFormat.format(sheet.rows)} rows from ${sheet.source}`]);
    const timings = Object.entries(run.timings || {});
    if (timings.length > 0)
      facts.push(['Timings', timings.map(([stage, ms]) => `${stage} ${formatDuration(ms)}`).join(' · ')]);
    if (run.error) facts.push(['Error', `${run.error.code}: ${run.error.message}`]);
    if (run.status !== 'succeeded' && run.status !== 'unchanged' && run.destinationHolds !== undefined) {
      const holds = run.destinationHolds;
      facts.push([
        'Teammates have',
        holds
          ? `the workbook of ${zone ? formatZoned(holds.deliveredAt, zone) : formatDateTime(holds.deliveredAt)} (${formatRows(holds.rows)}, run ${holds.runId})`
          : 'no workbook from this export yet',
      ]);
    }
    for (const warning of run.warnings || []) facts.push(['Warning', warning]);
    const list = el(
      'dl',
      { class: 'detail' },
      facts.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]),
    );
    return el('tr', { class: 'detail' }, el('td', { colspan: '8' }, list));
  }

  /** One burst part: status, rows, where its file is (a link for OneDrive), its error, and whether a retry kept it. */
  function describePart(part) {
    const where = part.destination ? part.destination.location : '';
    const text = [
      part.status,
      formatRows(part.rows),
      part.sheets && part.sheets.length > 0 && !where ? part.sheets.map((s) => s.sheet).join(', ') : '',
      where,
      part.keptFrom ? `kept from run ${part.keptFrom}` : '',
      part.error ? `${part.error.code}: ${part.error.message}` : '',
      part.note || '',
      part.warnings && part.warnings.length > 0
        ? `${part.warnings.length} warning(s): ${part.warnings.join('; ')}`
        : '',
    ]
      .filter((t) => t !== '')
      .join(' · ');
    const href = safeUrl(part.destination && part.destination.webUrl);
    return [
      el('span', { class: part.status === 'failed' ? 'error-text' : '' }, text),
      href ? [' ', el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, 'open')] : null,
    ];
  }

  /** `#run=<id>` (from a notification): select that run's export and open the run. */
  async function openDeepLink() {
    const match = /^#run=(.+)$/.exec(location.hash);
    if (!match) return;
    try {
      const run = await api(`/api/runs/${encodeURIComponent(decodeURIComponent(match[1]))}`);
      state.selectedId = run.exportId;
      state.openRunId = run.runId;
      state.openRunDetail = run;
      state.highlightRunId = run.runId;
      renderExports();
      await loadHistory();
    } catch (error) {
      if (error.status !== 401) showError(error);
    }
  }

  // ---- messages -----------------------------------------------------------------------------------------------
  function showBanner(text, kind) {
    const banner = $('banner');
    banner.textContent = text;
    banner.className = kind === 'info' ? 'banner info' : 'banner';
    banner.hidden = false;
  }

  function hideBanner() {
    $('banner').hidden = true;
  }

  function showError(error) {
    if (error && error.status === 401) return;
    showBanner(error && error.message ? error.message : String(error), 'error');
  }

  // ---- start --------------------------------------------------------------------------------------------------
  document.addEventListener('DOMContentLoaded', () => {
    $('sign-in-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const token = $('token').value.trim();
      if (token) signIn(token);
    });
    $('sign-out').addEventListener('click', () => signOut(''));
    for (const id of ['filter-status', 'filter-trigger']) {
      $(id).addEventListener('change', () => {
        state.openRunId = undefined;
        loadHistory().catch(showError);
      });
    }
    $('history-filters').addEventListener('submit', (event) => event.preventDefault());
    let resizeTimer;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => renderChart(state.chartRuns), 150);
    });
    window.addEventListener('hashchange', () => {
      openDeepLink();
    });
    if (state.token) signIn(state.token);
    else showSignIn('');
  });
})();
