/**
 * Debian's Chromium driven by playwright-core, the way this machine allows it: headless, no sandbox (root), no GPU,
 * no background networking (the closed network refuses it), a fresh profile each time. Never Playwright's download.
 */
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Starts Chromium with a fresh profile in `profileDir`; returns the context and its first page. */
export async function launchChromium(
  profileDir: string,
  viewport: { width: number; height: number } = { width: 1366, height: 768 },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}
