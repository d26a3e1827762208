// Debian's Chromium driven by playwright-core, with the flags this machine needs (no browser
// download; background networking off, or Chromium floods the closed network).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export async function launchChromium() {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (bindings/wasm/setup.sh installs it)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
