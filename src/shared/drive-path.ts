/**
 * OneDrive / SharePoint path rules, checked offline before any network call: a bad name must fail in `validate`,
 * not after a 10-minute export when the upload is refused.
 */

/** Characters OneDrive and SharePoint refuse in a file or folder name. */
const FORBIDDEN_CHARS = /["*:<>?/\\|]/;
/** Names refused whole (case-insensitive), with or without an extension for the device names. */
const RESERVED_NAMES = new Set(['.lock', 'con', 'prn', 'aux', 'nul', 'desktop.ini']);
const DEVICE_NAME = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
/** Whole decoded path limit of OneDrive/SharePoint. */
export const MAX_DRIVE_PATH_LENGTH = 400;
/** Excel desktop cannot open files whose full path is longer than this. */
export const EXCEL_DESKTOP_PATH_LIMIT = 218;

export interface DrivePathCheck {
  /** Problems that make the upload fail; each names the segment and the rule. */
  readonly errors: string[];
  /** Problems that only hurt some users (Excel desktop path limit). */
  readonly warnings: string[];
}

/**
 * Splits a drive-relative path (`Reports/Sales Pipeline.xlsx`, forward slashes, no leading slash needed) into its
 * segments, dropping empty ones from leading, trailing or doubled slashes.
 */
export function splitDrivePath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/**
 * Checks a drive-relative file path against OneDrive's naming rules: forbidden characters `" * : < > ? / \ |`,
 * reserved names (`.lock`, `CON`, `PRN`, `AUX`, `NUL`, `COM0-9`, `LPT0-9`, `desktop.ini`), `_vti_`, a leading `~$`,
 * leading/trailing spaces, a trailing dot, and the 400-character path limit; warns past 218 characters (Excel
 * desktop). Pure; never throws.
 */
export function validateDrivePath(path: string): DrivePathCheck {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (path.includes('\\')) {
    errors.push(`path '${path}' uses '\\'; separate folders with '/' (e.g. Reports/Sales Pipeline.xlsx)`);
  }
  const segments = splitDrivePath(path.replace(/\\/g, '/'));
  if (segments.length === 0) {
    errors.push('path is empty; give a file path such as Reports/Sales Pipeline.xlsx');
    return { errors, warnings };
  }
  segments.forEach((segment, index) => {
    const isFile = index === segments.length - 1;
    const what = `${isFile ? 'file name' : 'folder name'} '${segment}'`;
    const bad = [...new Set(segment.match(new RegExp(FORBIDDEN_CHARS.source, 'g')) ?? [])];
    if (bad.length > 0)
      errors.push(`${what} contains ${bad.map((c) => `'${c}'`).join(', ')}, which OneDrive does not allow`);
    // Control characters cannot be typed in OneDrive either and usually mean a broken config value.
    if ([...segment].some((c) => c.charCodeAt(0) < 0x20)) errors.push(`${what} contains a control character`);
    const lower = segment.toLowerCase();
    if (RESERVED_NAMES.has(lower) || DEVICE_NAME.test(segment)) errors.push(`${what} is a reserved name in OneDrive`);
    if (lower.includes('_vti_')) errors.push(`${what} contains '_vti_', which SharePoint reserves`);
    if (segment.startsWith('~$'))
      errors.push(`${what} starts with '~$', which OneDrive reserves for Office lock files`);
    if (!isFile && segment.startsWith('~'))
      errors.push(`${what} starts with '~', which SharePoint does not allow for folders`);
    if (segment !== segment.trim()) errors.push(`${what} starts or ends with a space`);
    if (segment.endsWith('.')) errors.push(`${what} ends with '.'`);
    if (segment === '.' || segment === '..') errors.push(`${what} is a relative path segment`);
  });
  const decodedLength = segments.join('/').length;
  if (decodedLength > MAX_DRIVE_PATH_LENGTH) {
    errors.push(`path is ${decodedLength} characters long; OneDrive allows at most ${MAX_DRIVE_PATH_LENGTH}`);
  } else if (decodedLength > EXCEL_DESKTOP_PATH_LIMIT) {
    warnings.push(
      `path is ${decodedLength} characters long; Excel desktop cannot open files whose full path passes ` +
        `${EXCEL_DESKTOP_PATH_LIMIT} characters (the browser can); consider shorter folder names`,
    );
  }
  return { errors, warnings };
}

/** Encodes each segment with encodeURIComponent (`Sales Pipeline.xlsx` → `Sales%20Pipeline.xlsx`), joined by `/`. */
export function encodeDrivePath(segments: readonly string[]): string {
  return segments.map((s) => encodeURIComponent(s)).join('/');
}

/**
 * The side-by-side name used when the target is locked: `Name (refreshed YYYY-MM-DD HHmm).ext`, with the time in
 * `timezone` (IANA).
 */
export function sideBySideName(fileName: string, at: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '00';
  const stamp = `${get('year')}-${get('month')}-${get('day')} ${get('hour')}${get('minute')}`;
  const dot = fileName.lastIndexOf('.');
  const base = dot > 0 ? fileName.slice(0, dot) : fileName;
  const ext = dot > 0 ? fileName.slice(dot) : '';
  return `${base} (refreshed ${stamp})${ext}`;
}

/**
 * Makes `value` (a data value such as a region or a rep's name) usable as ONE file or folder name in OneDrive,
 * SharePoint and Windows, by the rules {@link validateDrivePath} checks: each forbidden character (`" * : < > ? / \ |`)
 * and control character becomes `_` (a `/` in a value never makes a folder), surrounding spaces and trailing dots go,
 * a reserved name gets a `_` (`CON` → `CON_`, `NUL.txt` → `NUL_.txt`, `desktop.ini` → `desktop.ini_`), `_vti_` becomes `_vti-`, a
 * leading `~` becomes `_~`, and an empty result is `_`. Pure; never throws.
 */
export function safeDriveName(value: string): string {
  let name = [...value]
    .map((c) => (new RegExp(FORBIDDEN_CHARS.source).test(c) || c.charCodeAt(0) < 0x20 ? '_' : c))
    .join('')
    .trim()
    .replace(/[.\s]+$/u, '')
    .trim();
  name = name.replace(/_vti_/gi, '_vti-');
  if (name.startsWith('~')) name = `_${name}`;
  // A device name is reserved with any extension (`NUL.xlsx`): the `_` goes after the device part.
  if (DEVICE_NAME.test(name)) name = name.replace(/^(con|prn|aux|nul|com[0-9]|lpt[0-9])/i, '$1_');
  else if (RESERVED_NAMES.has(name.toLowerCase())) name = `${name}_`;
  return name === '' ? '_' : name;
}
