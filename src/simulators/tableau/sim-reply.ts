/** The answers of the Tableau simulator: one response shape, Tableau's XML envelope and error body, HTML pages. */
import { errorXml, type XmlWriter } from './sim-xml.js';

/** One answer of the simulator, written by {@link sendResponse}. */
export interface SimResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** A complete body, or lines streamed in chunks (view data). */
  readonly body: Buffer | Iterable<string>;
}

/** A minimal HTML page, as gateways, proxies and Tableau's non-API pages answer. */
export function html(title: string, text: string): Buffer {
  return Buffer.from(
    `<!DOCTYPE html>\n<html><head><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>\n`,
  );
}

export interface TableauReplies {
  /** A `tsResponse` document around `body`, its schema location for `apiVersion`. */
  readonly xml: (status: number, body: string, apiVersion: string, headers?: Record<string, string>) => SimResponse;
  /** A Tableau REST error (`<error code><summary/><detail/></error>`). */
  readonly tableauError: (
    status: number,
    code: string,
    summary: string,
    detail: string,
    apiVersion: string,
  ) => SimResponse;
}

/** The XML answer builders of one simulator, in its namespace style. */
export function createTableauReplies(w: XmlWriter): TableauReplies {
  const xml = (
    status: number,
    body: string,
    apiVersion: string,
    headers: Record<string, string> = {},
  ): SimResponse => ({
    status,
    headers: { 'Content-Type': 'application/xml;charset=utf-8', ...headers },
    body: Buffer.from(w.doc(body, apiVersion)),
  });
  const tableauError = (
    status: number,
    code: string,
    summary: string,
    detail: string,
    apiVersion: string,
  ): SimResponse => xml(status, errorXml(w, code, summary, detail), apiVersion);
  return { xml, tableauError };
}
