// Copies non-TypeScript runtime assets (the dashboard page) next to the compiled JavaScript in dist/.
import { cp, stat } from 'node:fs/promises';

const assets = [['src/server/dashboard', 'dist/server/dashboard']];
for (const [from, to] of assets) {
  try {
    await stat(from);
  } catch {
    continue;
  }
  await cp(from, to, { recursive: true });
}
