import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const source = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'fleet-page');

/**
 * Bundles the status page into `outDir` (`index.html`, `fleet-page.js`, `fleet-page.css`), which
 * the fleet server serves as it is: everything the page needs, Chart.js included, comes from
 * there, never from a CDN.
 */
export async function buildFleetPage(options: { outDir: string; minify?: boolean }): Promise<void> {
  mkdirSync(options.outDir, { recursive: true });
  await build({
    // The CSS main.ts imports comes out beside it as fleet-page.css.
    entryPoints: { 'fleet-page': path.join(source, 'main.ts') },
    outdir: options.outDir,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: options.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'error',
    entryNames: '[name]',
  });
  copyFileSync(path.join(source, 'index.html'), path.join(options.outDir, 'index.html'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error('usage: tsx scripts/build-fleet-page.ts <outDir>');
    process.exit(2);
  }
  await buildFleetPage({ outDir });
}
