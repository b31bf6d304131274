import { describe, expect, it } from 'vitest';
import { CATALOGUES, LANGUAGES, type MessageKey } from './catalogues.js';
import { EN } from './en.js';
import { createTranslator } from './translator.js';

const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();
const keys = Object.keys(EN) as MessageKey[];

describe('the catalogues', () => {
  it.each(LANGUAGES)('%s has every key of English and no other, with the same placeholders', (language) => {
    const messages = CATALOGUES[language];
    expect(Object.keys(messages).sort()).toEqual([...keys].sort());
    for (const key of keys) {
      expect(placeholders(messages[key]), `${language} ${key}`).toEqual(placeholders(EN[key]));
      expect(messages[key].trim(), `${language} ${key}`).not.toBe('');
    }
  });

  it.each(LANGUAGES)('%s names its sheets the way Excel accepts them, each name once', (language) => {
    const names = keys.filter((k) => k.startsWith('sheet.')).map((k) => CATALOGUES[language][k]);
    for (const name of names) {
      expect(name.length, name).toBeLessThanOrEqual(31);
      expect(name, name).not.toMatch(/[[\]:*?/\\]|^'|'$/);
    }
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
  });

  it('gives every plural message both forms', () => {
    for (const key of keys.filter((k) => k.endsWith('.one'))) {
      expect(keys, key).toContain(key.replace(/\.one$/, '.other'));
    }
    for (const key of keys.filter((k) => k.endsWith('.other'))) {
      expect(keys, key).toContain(key.replace(/\.other$/, '.one'));
    }
  });

  it('leaves in French only the words that are French too', () => {
    const same = keys.filter((k) => CATALOGUES.fr[k] === EN[k] && /\p{L}{2}/u.test(EN[k].replace(/\{\w+\}/g, '')));
    expect(same).toEqual([
      'breakdown.column.dimension',
      'leadTarget.column.date',
      'leadTarget.chart.categories',
      'about.export',
      'about.description',
      'about.source',
      'about.zone',
    ]);
  });

  it('translates most texts: a catalogue that copied English would not pass', () => {
    for (const language of LANGUAGES.filter((l) => l !== 'en')) {
      const same = keys.filter(
        (k) => CATALOGUES[language][k] === EN[k] && /[a-z]{3}/i.test(EN[k].replace(/\{\w+\}/g, '')),
      );
      // Words that are the same in both languages (Export, Description, Dimension, Source, Date, Region...).
      expect(same.length, `${language}: ${same.join(', ')}`).toBeLessThan(12);
    }
  });
});

describe('createTranslator', () => {
  const D = (iso: string): Date => new Date(`${iso}T00:00:00Z`);

  it('fills placeholders, writing numbers the language’s way, and refuses a missing one', () => {
    expect(createTranslator('en').t('period.asOf', { date: '27 Nov 2026' })).toBe('as of 27 Nov 2026');
    expect(
      createTranslator('en').plural('summary.note.deals', 5000, { sheet: 'O', period: 'p', range: 'r', date: 'd' }),
    ).toMatch(/^5,000 deals from sheet "O"/);
    expect(
      createTranslator('fr').plural('summary.note.deals', 5000, { sheet: 'O', period: 'p', range: 'r', date: 'd' }),
    ).toMatch(/^5\u202f000 affaires de la feuille « O »/);
    expect(() => createTranslator('en').t('period.asOf')).toThrow(/period\.asOf.*\{date\}/);
  });

  it('chooses plural forms by the language’s rules (French 0 and 1 are singular)', () => {
    expect(createTranslator('en').plural('period.lastDays', 1)).toBe('the last day');
    expect(createTranslator('en').plural('period.lastDays', 365)).toBe('the last 365 days');
    expect(createTranslator('fr').plural('quality.openNoAmount', 0)).toBe(
      '0 affaire ouverte sans montant, comptée sans valeur',
    );
    expect(createTranslator('de').plural('period.lastDays', 30)).toBe('die letzten 30 Tage');
  });

  it('writes dates, months, ranges and money in each language', () => {
    const en = createTranslator('en');
    const fr = createTranslator('fr');
    expect(en.day(D('2026-11-27'))).toBe('27 Nov 2026');
    expect(fr.day(D('2026-11-27'))).toBe('27 nov. 2026');
    expect(en.month(D('2026-11-01'))).toBe('Nov 2026');
    expect(en.dayRange(D('2025-11-28'), D('2026-11-27'))).toBe('28 Nov 2025 – 27 Nov 2026');
    expect(en.dayRange(D('2026-11-01'), D('2026-11-27'))).toBe('1–27 Nov 2026');
    expect(en.dayRange(D('2026-11-01'), D('2026-11-01'))).toBe('1 Nov 2026');
    expect(en.money(1_234_567.4, '$')).toBe('$1,234,567');
    expect(en.money(-250, 'USD')).toBe('-$250');
    expect(en.money(250, 'CHF')).toBe('250 CHF');
    expect(fr.money(1_234_567, 'EUR')).toBe('1\u202f234\u202f567 €');
    expect(createTranslator('es').list(['a', 'b', 'c'])).toBe('a, b y c');
  });
});
