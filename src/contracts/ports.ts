/**
 * The narrow interfaces the pipeline needs from its stages. They are owned here, by the consumer; sources and
 * destinations satisfy them structurally, so they never import the pipeline.
 */
import type { Logger } from '../shared/logger.js';
import type { Provenance, RawRow } from '../shared/table.js';

/** One view to fetch, as configured (already validated). */
export interface ViewRequest {
  /** Tableau workbook name, or undefined when addressed by contentUrl/LUID or for CSV files. */
  readonly workbook?: string | undefined;
  readonly view?: string | undefined;
  readonly project?: string | undefined;
  readonly contentUrl?: string | undefined;
  readonly viewId?: string | undefined;
  /** Local CSV path (csv source). */
  readonly file?: string | undefined;
  /** `vf_` filters: field caption → accepted values (OR). */
  readonly filters: Readonly<Record<string, readonly string[]>>;
  /** `vf_Parameters.<name>` values. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Minutes Tableau may serve cached data. */
  readonly maxAgeMinutes: number;
}

export interface FetchContext {
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Folder for spooled downloads; the table's dispose() removes what it wrote there. */
  readonly tempDir: string;
}

/**
 * A fetched view as raw display strings. `rows()` can be called more than once (each call re-reads from the
 * start), and a pass may stop early: a column's type is known only after its last value, so a view is read for its
 * first rows' typing and then written while typed (or, in update mode, typed in a full pass and then written).
 */
export interface RawTable {
  readonly header: readonly string[];
  rows(): AsyncIterable<RawRow>;
  readonly provenance: Provenance;
  /**
   * Problems worth a line in the run report (dashboard instead of worksheet, PAT near expiry...). May grow once, at
   * the end of the first complete `rows()` pass (a file's invalid UTF-8 is known only once all of it was decoded):
   * read it after that pass.
   */
  readonly warnings: readonly string[];
  /** Bytes received from the source (0 when unknown). */
  readonly bytes: number;
  /**
   * Offered by tables read from bytes (a CSV file or a spooled download): the SHA-256 (hex) of all the bytes, known
   * once a `rows()` pass has read them to the end (undefined before). The same bytes are the same header and rows,
   * so the run's data hash uses it instead of digesting every row again (≈ 0.8 s of CPU per million rows).
   */
  readonly contentDigest?: (() => string | undefined) | undefined;
  /** Removes spooled files. Idempotent. */
  dispose(): Promise<void>;
}

/** A Tableau dashboard to export whole: by workbook and dashboard name (optionally project), or by contentUrl. */
export interface DashboardRequest {
  readonly workbook?: string | undefined;
  readonly name?: string | undefined;
  readonly project?: string | undefined;
  readonly contentUrl?: string | undefined;
}

/** One worksheet a dashboard shows. */
export interface DashboardSheet {
  readonly name: string;
  /** The LUID of the view it is published as; undefined for a hidden sheet (not published, so not exportable). */
  readonly viewId: string | undefined;
}

/** The worksheets of a dashboard, in the dashboard's order, and how they were found. */
export interface DashboardSheets {
  readonly workbook: string;
  readonly dashboard: string;
  /**
   * `metadata`: the dashboard's own sheets (Metadata API). `workbook-views`: the Metadata API was not available, so
   * these are every worksheet view of the workbook (which of them the dashboard shows is unknown).
   */
  readonly via: 'metadata' | 'workbook-views';
  readonly sheets: readonly DashboardSheet[];
  /** Why the fallback was taken, hidden sheets... for the run report. */
  readonly warnings: readonly string[];
}

/** When a view's data was last refreshed, as far as the source can tell. */
export type DataFreshness =
  /** Every data source behind the view is a live connection: the data is as of the query. */
  | { readonly kind: 'live'; readonly datasources: readonly string[] }
  /** Extract(s): `refreshedAt` (ISO 8601) is the oldest last refresh among them, `datasource` the one it belongs to. */
  | { readonly kind: 'extract'; readonly refreshedAt: string; readonly datasource: string }
  /** The source could not tell (Metadata API off, view not indexed yet...). */
  | { readonly kind: 'unknown'; readonly reason: string };

/** An open connection to a source for one run (one Tableau session). */
export interface SourceSession {
  fetchView(view: ViewRequest, ctx: FetchContext): Promise<RawTable>;
  /**
   * The worksheets a dashboard shows (Tableau only). Throws SourceError when the dashboard cannot be found or is not
   * a dashboard; falls back (with a warning) when the Metadata API is unavailable.
   */
  readonly listDashboardSheets?:
    ((request: DashboardRequest, ctx: Omit<FetchContext, 'tempDir'>) => Promise<DashboardSheets>) | undefined;
  /** When the view's data was last refreshed (Tableau only), read before its data is fetched. Never throws for an unknown age. */
  readonly readFreshness?:
    ((view: ViewRequest, ctx: Omit<FetchContext, 'tempDir'>) => Promise<DataFreshness>) | undefined;
  /** Ends the session (Tableau sign-out). Never throws. */
  close(): Promise<void>;
}

export interface Source {
  open(ctx: { readonly logger: Logger; readonly signal: AbortSignal }): Promise<SourceSession>;
}

/** A finished workbook on local disk, ready to deliver whole. */
export interface FinishedFile {
  readonly path: string;
  readonly bytes: number;
  /** File name the destination should use (e.g. `Sales Pipeline.xlsx`) when it decides the name itself. */
  readonly suggestedName: string;
  /** Hash of the data the workbook shows, not of its bytes: two files with the same hash show the same workbook. */
  readonly dataHash?: string | undefined;
}

/** What the last successful run left at the destination (from the run history). */
export interface PreviousDelivery {
  readonly location: string;
  readonly webUrl?: string | undefined;
  readonly itemId?: string | undefined;
  readonly eTag?: string | undefined;
  readonly bytes: number;
  readonly dataHash: string | undefined;
  /** When that file was delivered (ISO 8601), as far as the history knows. */
  readonly deliveredAt: string | undefined;
}

/** The file at the destination as it is now, downloaded so that update mode can patch it. */
export interface CurrentFile {
  /** The local copy (inside the `tempDir` given). */
  readonly path: string;
  readonly bytes: number;
  /**
   * Opaque version of what was read: the item's eTag on OneDrive, a fingerprint (size, mtime, SHA-256) for a local
   * file. Passed back as `DeliveryContext.ifMatch` so the write happens only if nobody saved meanwhile.
   */
  readonly version: string;
  /** Where it is, for messages (a OneDrive path or a local path). */
  readonly location: string;
}

export interface FetchCurrentContext {
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Folder for the downloaded copy. */
  readonly tempDir: string;
  /** Refuse (DestinationError `DESTINATION_TOO_LARGE`) a file larger than this many bytes, before downloading it. */
  readonly maxBytes: number;
  /**
   * This run's data hash and the last successful delivery: a destination that skips unchanged data answers
   * {@link UnchangedFile} instead of downloading when they match and that file is still there.
   */
  readonly dataHash?: string | undefined;
  readonly previous?: PreviousDelivery | undefined;
}

/** The data is the same as the last delivery's and its file is still at the target: nothing to download or write. */
export interface UnchangedFile {
  readonly unchanged: true;
  readonly location: string;
}

export interface DeliveryContext {
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** The run's wall-clock start, for side-by-side names like `Name (refreshed 2026-11-27 0600).xlsx`. */
  readonly runStartedAt: Date;
  /** IANA zone of the export, for the same names. */
  readonly timezone: string;
  /** The last successful delivery, so a destination can skip an upload of unchanged data. */
  readonly previous?: PreviousDelivery | undefined;
  /**
   * Update mode: write only if the target is still at this version (`CurrentFile.version`). When it changed
   * meanwhile (a teammate saved), throw DestinationError `DESTINATION_CHANGED` and leave it untouched.
   */
  readonly ifMatch?: string | undefined;
  /**
   * Update mode, first delivery: write only if no file exists at the target yet (one appeared meanwhile: throw
   * DestinationError `DESTINATION_CHANGED`).
   */
  readonly ifAbsent?: boolean | undefined;
  /**
   * Told how far the upload is: bytes the destination has accepted so far out of the file's size. Optional for the
   * destination (a local write may say nothing); must not throw.
   */
  readonly onUpload?: ((bytesSent: number, bytesTotal: number) => void) | undefined;
}

export interface DeliveryResult {
  /** Where the file now is: a local path or a OneDrive/SharePoint path. */
  readonly location: string;
  /** Link teammates open (OneDrive webUrl); undefined for local files. */
  readonly webUrl?: string | undefined;
  readonly itemId?: string | undefined;
  readonly eTag?: string | undefined;
  /** True when the file was delivered under another name (workbook locked, side-by-side policy). */
  readonly sideBySide?: boolean | undefined;
  /**
   * True when nothing was written because the data is unchanged and the previous file is still there as delivered
   * (the other fields then describe that file).
   */
  readonly unchanged?: boolean | undefined;
  readonly warnings: readonly string[];
}

export interface Destination {
  /** Human-readable target, for `list`, dry runs and messages (never secrets). */
  describe(): string;
  /**
   * Delivers the whole file or nothing: on failure, the previous file at the target stays intact. A destination may
   * answer `unchanged` instead of writing when the data is the same as `ctx.previous` and that file is still there.
   */
  deliver(file: FinishedFile, ctx: DeliveryContext): Promise<DeliveryResult>;
  /**
   * Update mode: downloads the file now at the target, with its version; undefined when there is none yet. Throws
   * DestinationError `DESTINATION_TOO_LARGE` over `ctx.maxBytes` (nothing downloaded).
   */
  readonly fetchCurrent?: ((ctx: FetchCurrentContext) => Promise<CurrentFile | UnchangedFile | undefined>) | undefined;
}
