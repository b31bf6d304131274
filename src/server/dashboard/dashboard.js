// Admin dashboard: plain browser JavaScript, no build step. Every piece of data reaches the page through
// textContent or attributes set with setAttribute (links only when http/https): never through innerHTML.
'use strict';

(function dashboard() {
  const TOKEN_KEY = 'tableau-export.adminToken';
  const REFRESH_MS = 15000;
  const POLL_MS = 1000;

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    exports: [],
    selectedId: undefined,
    /** exportId -> { runId, startedAt (ms) } for runs this page is following. */
    syncing: new Map(),
    openRunId: undefined,
    highlightRunId: undefined,
    refreshTimer: undefined,
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
  const numberFormat = new Intl.NumberFormat();
  const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  // Times are shown in the viewer's zone, with the zone named: exports run in their own zones.
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

  function formatDateTime(iso) {
    return iso ? dateTimeFormat.format(new Date(iso)) : '';
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

  function formatTrigger(trigger) {
    if (!trigger) return '';
    if (trigger.kind === 'manual') return `manual (${trigger.by})`;
    if (trigger.kind === 'schedule') return 'scheduled';
    if (trigger.kind === 'cli') return 'command line';
    return trigger.kind;
  }

  function badge(status) {
    const label =
      { succeeded: 'Succeeded', failed: 'Failed', running: 'Running', skipped: 'Skipped', unchanged: 'Unchanged' }[
        status
      ] || status;
    return el('span', { class: `badge ${status}` }, label);
  }

  function timeCell(iso, extra) {
    return el(
      'td',
      { class: 'nowrap' },
      el('time', { datetime: iso, title: formatDateTime(iso) }, formatRelative(iso)),
      extra,
    );
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
    $('sign-in').hidden = false;
    $('sign-in-error').textContent = message || '';
    $('token').value = '';
    $('token').focus();
  }

  function signOut(message) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    clearInterval(state.refreshTimer);
    state.refreshTimer = undefined;
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
    await openDeepLink();
  }

  // ---- exports ------------------------------------------------------------------------------------------------
  async function refreshExports() {
    const body = await api('/api/exports');
    state.exports = body.exports;
    for (const exp of state.exports) {
      // Follow runs started elsewhere (schedule, another admin) so their progress shows too.
      if (exp.running && exp.runningRunId && !state.syncing.has(exp.id)) follow(exp.id, exp.runningRunId, Date.now());
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

  function exportRow(exp) {
    const last = exp.lastRun;
    const syncing = state.syncing.get(exp.id);
    const status = syncing ? 'running' : last ? last.status : undefined;
    const webUrl = safeUrl(exp.destination.webUrl);

    const statusCell = el('td', {}, status ? badge(status) : el('span', { class: 'badge never' }, 'Never run'));
    if (!syncing && last && last.status === 'failed' && last.error) {
      statusCell.append(
        el('span', { class: 'sub error-cell', title: `${last.error.code}: ${last.error.message}` }, last.error.code),
      );
    }

    const lastCell = last
      ? timeCell(
          last.startedAt,
          el('span', { class: 'sub' }, `${formatTrigger(last.trigger)} · ${formatDuration(last.durationMs)}`),
        )
      : el('td', { class: 'muted' }, '–');

    const nextCell = exp.nextRun
      ? timeCell(exp.nextRun, el('span', { class: 'sub', title: exp.schedule }, `${exp.schedule} (${exp.timezone})`))
      : el('td', { class: 'muted' }, exp.schedule ? 'not scheduled' : 'manual only');

    const fileCell = el(
      'td',
      {},
      webUrl
        ? el('a', { href: webUrl, target: '_blank', rel: 'noopener noreferrer' }, 'Open file')
        : el('span', { class: 'muted' }, 'No file yet'),
      el('span', { class: 'sub' }, exp.destination.label),
    );

    const button = el(
      'button',
      {
        type: 'button',
        class: 'sync',
        disabled: Boolean(syncing),
        'aria-label': `Sync ${exp.id} now`,
        onclick: (event) => {
          event.stopPropagation();
          syncNow(exp.id);
        },
      },
      syncing ? `Syncing… ${Math.max(0, Math.round((Date.now() - syncing.startedAt) / 1000))} s` : 'Sync now',
    );
    const actionCell = el(
      'td',
      { class: 'action-col' },
      button,
      syncing ? el('span', { class: 'progress', role: 'progressbar', 'aria-label': 'Sync in progress' }) : null,
    );

    return el(
      'tr',
      {
        'data-export-id': exp.id,
        class: exp.id === state.selectedId ? 'selected' : undefined,
        onclick: () => selectExport(exp.id),
      },
      el('td', {}, el('span', { class: 'export-id' }, exp.id)),
      statusCell,
      lastCell,
      nextCell,
      // A failed or skipped run wrote nothing: its 0 would read as "the view is empty".
      el(
        'td',
        { class: 'num' },
        last && (last.status === 'succeeded' || last.status === 'unchanged') ? numberFormat.format(last.rows) : '–',
      ),
      fileCell,
      actionCell,
    );
  }

  function selectExport(id) {
    if (state.selectedId === id) return;
    state.selectedId = id;
    state.openRunId = undefined;
    renderExports();
    loadHistory().catch(showError);
  }

  // ---- sync now -----------------------------------------------------------------------------------------------
  async function syncNow(exportId) {
    hideBanner();
    try {
      const body = await api(`/api/exports/${encodeURIComponent(exportId)}/run`, { method: 'POST' });
      follow(exportId, body.runId, Date.now());
      state.selectedId = exportId;
      state.highlightRunId = body.runId;
      renderExports();
      await loadHistory();
    } catch (error) {
      if (error.status === 409) showBanner(`${exportId} is already running. Its progress shows below.`, 'info');
      else if (error.status !== 401) showError(error);
      await refreshExports().catch(() => undefined);
    }
  }

  /** Polls one run until it ends, keeping the button's elapsed time up to date. */
  function follow(exportId, runId, startedAt) {
    state.syncing.set(exportId, { runId, startedAt });
    let misses = 0;
    const tick = async () => {
      if (!state.token) return;
      let run;
      try {
        run = await api(`/api/runs/${encodeURIComponent(runId)}`);
      } catch (error) {
        // A just-accepted run may not be recorded for a moment: retry a few times before giving up.
        if (error.status === 404 && misses++ < 10) return void setTimeout(tick, POLL_MS);
        state.syncing.delete(exportId);
        if (error.status !== 401) showError(error);
        return;
      }
      if (run.status === 'running') {
        renderExports();
        if (state.selectedId === exportId) loadHistory().catch(() => undefined);
        setTimeout(tick, POLL_MS);
        return;
      }
      state.syncing.delete(exportId);
      announce(run);
      await refreshExports().catch(showError);
      if (state.selectedId === exportId) await loadHistory().catch(showError);
    };
    setTimeout(tick, POLL_MS);
  }

  function announce(run) {
    const what = `Sync of ${run.exportId}`;
    if (run.status === 'failed') {
      showBanner(
        `${what} failed: ${run.error ? `${run.error.code}: ${run.error.message}` : 'no error recorded'}`,
        'error',
      );
    } else {
      showBanner(
        `${what} ${run.status}: ${numberFormat.format(run.rows)} rows in ${formatDuration(run.durationMs)}.`,
        'info',
      );
    }
  }

  // ---- history ------------------------------------------------------------------------------------------------
  async function loadHistory() {
    const id = state.selectedId;
    $('history-title').textContent = id ? `Run history: ${id}` : 'Run history';
    if (!id) return;
    const body = await api(`/api/exports/${encodeURIComponent(id)}/runs?limit=50`);
    if (state.selectedId !== id) return;
    renderHistory(body.runs);
  }

  function renderHistory(runs) {
    const tbody = $('history').querySelector('tbody');
    const rows = [];
    for (const run of runs) {
      const problem = run.error
        ? el('td', { class: 'error-cell' }, `${run.error.code}: ${run.error.message}`)
        : run.warnings.length > 0
          ? el(
              'td',
              { class: 'warn-cell' },
              run.warnings.length === 1 ? run.warnings[0] : `${run.warnings.length} warnings`,
            )
          : el('td', { class: 'muted' }, '');
      rows.push(
        el(
          'tr',
          {
            class: `run-row${run.runId === state.highlightRunId ? ' highlight' : ''}`,
            'data-run-id': run.runId,
            'aria-expanded': String(state.openRunId === run.runId),
            onclick: () => {
              state.openRunId = state.openRunId === run.runId ? undefined : run.runId;
              renderHistory(runs);
            },
          },
          timeCell(run.startedAt),
          el('td', { class: 'nowrap' }, formatTrigger(run.trigger)),
          el('td', {}, badge(run.status)),
          el(
            'td',
            { class: 'num' },
            run.status === 'running'
              ? formatDuration(Date.now() - Date.parse(run.startedAt))
              : formatDuration(run.durationMs),
          ),
          el(
            'td',
            { class: 'num' },
            run.status === 'succeeded' || run.status === 'unchanged' ? numberFormat.format(run.rows) : '–',
          ),
          el('td', { class: 'num' }, formatBytes(run.bytes)),
          problem,
        ),
      );
      if (state.openRunId === run.runId) rows.push(detailRow(run));
    }
    tbody.replaceChildren(...rows);
    $('no-history').hidden = runs.length > 0;
  }

  function detailRow(run) {
    const facts = [
      ['Run id', run.runId],
      ['Started', formatDateTime(run.startedAt)],
      ['Finished', run.finishedAt ? formatDateTime(run.finishedAt) : '–'],
      ['Destination', run.destination ? run.destination.location : '–'],
    ];
    for (const sheet of run.sheets || [])
      facts.push([`Sheet ${sheet.sheet}`, `${numberFormat.format(sheet.rows)} rows from ${sheet.source}`]);
    const timings = Object.entries(run.timings || {});
    if (timings.length > 0)
      facts.push(['Timings', timings.map(([stage, ms]) => `${stage} ${formatDuration(ms)}`).join(' · ')]);
    if (run.error) facts.push(['Error', `${run.error.code}: ${run.error.message}`]);
    for (const warning of run.warnings || []) facts.push(['Warning', warning]);
    const list = el(
      'dl',
      { class: 'detail' },
      facts.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]),
    );
    return el('tr', { class: 'detail' }, el('td', { colspan: '7' }, list));
  }

  /** `#run=<id>` (from a notification): select that run's export and open the run. */
  async function openDeepLink() {
    const match = /^#run=(.+)$/.exec(location.hash);
    if (!match) return;
    try {
      const run = await api(`/api/runs/${encodeURIComponent(decodeURIComponent(match[1]))}`);
      state.selectedId = run.exportId;
      state.openRunId = run.runId;
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
    window.addEventListener('hashchange', () => {
      openDeepLink();
    });
    if (state.token) signIn(state.token);
    else showSignIn('');
  });
})();
