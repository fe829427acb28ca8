import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (scripts/setup-tools.sh installs it); playwright-core never downloads a browser. */
export const CHROMIUM = process.env.AUTOPILOT_CHROMIUM ?? '/usr/bin/chromium';

/**
 * A headless Chromium in a fresh profile (playwright makes one per launch and removes it on close).
 * The flags keep it off the network it would otherwise call home to, which these machines refuse
 * many times at every start. `extraArgs` adds flags of a test's own (e.g. `--host-resolver-rules`).
 */
export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}
