/**
 * Run ids and attempt ids. A run is what an admin started (or a schedule fired): one id, given out by "Sync now" and
 * shown everywhere. In queue mode a run may take several attempts (its worker died, another one retried it); each
 * attempt has its own id, `<runId>#<n>` from the second on, for what is private to one process (temp folders, log
 * lines, the owner file of a temp folder). The run history stores one record per run and folds the attempts into it.
 */

/** Id of attempt `attempt` of run `runId`: the run id itself for attempt 1, then `<runId>#<attempt>`. */
export function attemptRunId(runId: string, attempt: number): string {
  return attempt <= 1 ? runId : `${runId}#${attempt}`;
}

/**
 * The run an id belongs to, and which attempt it names: `j#2` → `{ runId: 'j', attempt: 2 }`; an id without an
 * attempt suffix names the run itself (attempt undefined: the caller decides whether that means attempt 1).
 */
export function parseAttemptRunId(id: string): { readonly runId: string; readonly attempt: number | undefined } {
  const m = /^(.+)#(\d{1,4})$/.exec(id);
  if (m === null) return { runId: id, attempt: undefined };
  const attempt = Number(m[2]);
  return attempt >= 2 ? { runId: m[1] ?? id, attempt } : { runId: id, attempt: undefined };
}
