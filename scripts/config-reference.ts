// Regenerates the configuration reference table in README.md from the zod schema (`npm run config-reference`).
import { readFile, writeFile } from 'node:fs/promises';
import { withConfigReference } from '../src/config/reference.js';

const path = new URL('../README.md', import.meta.url);
const before = await readFile(path, 'utf8');
const after = withConfigReference(before);
if (after !== before) await writeFile(path, after);
console.log(after === before ? 'README config reference is up to date' : 'README config reference updated');
