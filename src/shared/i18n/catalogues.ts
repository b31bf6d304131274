/** The workbook languages and their catalogues: one file per language, every one with the keys of English. */
import { DE } from './de.js';
import { EN } from './en.js';
import { ES } from './es.js';
import { FR } from './fr.js';

/** The languages a workbook can be written in (`exports[].workbook.language`). */
export const LANGUAGES = ['en', 'fr', 'de', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Every message key: the keys of the English catalogue. */
export type MessageKey = keyof typeof EN;
/** A language's catalogue: a text for every key. */
export type Messages = { readonly [K in MessageKey]: string };

export const CATALOGUES: Readonly<Record<Language, Messages>> = { en: EN, fr: FR, de: DE, es: ES };
