import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ESLint } from 'eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config/config.js';

const run = promisify(execFile);

/** Every file below `dir`, relative to it. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/** Words only the simulators, emulators and demo seeding use. */
const SANDBOX_MARKERS = [
  'startDynatraceSimulator',
  'startServiceCatalogEmulator',
  '/_sim/',
  'seedCatalogDemo',
  'seedDemoEnvironment',
];

describe('the production build and image hold no sandbox code', () => {
  let outDir: string;
  beforeAll(async () => {
    outDir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-dist-'));
    // What `npm run build` compiles (tsconfig.build.json), into a folder of the test's own.
    await run(
      process.execPath,
      [path.join(projectRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir],
      {
        cwd: projectRoot,
      },
    );
  }, 240_000);
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('dist/ has the product and nothing of the sandbox', () => {
    const files = filesBelow(outDir);
    expect(files).toContain(path.join('workers', 'main.js'));
    expect(files).toContain(path.join('webhook', 'main.js'));
    // The image's `autopilot` (bin/autopilot) runs this, having no tsx to run the sources with.
    expect(files).toContain(path.join('cli', 'main.js'));
    expect(files.filter((f) => f.split(path.sep).includes('sandbox'))).toEqual([]);
    const offending = files
      .filter((f) => f.endsWith('.js'))
      .filter((f) => SANDBOX_MARKERS.some((m) => readFileSync(path.join(outDir, f), 'utf8').includes(m)));
    expect(offending).toEqual([]);
  });

  it('the image copies only what the product needs, and the build context leaves the sandbox out', () => {
    const dockerfile = readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].flatMap((m) =>
      m[1]!.trim().split(/\s+/).slice(0, -1),
    );
    expect([...new Set(copied)].sort()).toEqual([
      'bin',
      'package-lock.json',
      'package.json',
      'scripts',
      'src',
      'tsconfig.build.json',
      'tsconfig.json',
    ]);
    const ignored = readFileSync(path.join(projectRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['sandbox', 'test', 'bench']));
  });
});

// In this file, after the build: the probe file in src/ must not land in a build running at the same time.
/**
 * What eslint's import rule says of a file with this code at `file`. Type-aware linting only reads files the
 * project holds, so the probe is written for the moment of the check and removed at once.
 */
async function lint(file: string, code: string): Promise<string[]> {
  const probe = path.join(projectRoot, file.replace(/\.ts$/, `-probe-${process.pid}.ts`));
  writeFileSync(probe, code);
  try {
    const [result] = await new ESLint({ cwd: projectRoot }).lintFiles([probe]);
    return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  } finally {
    rmSync(probe, { force: true });
  }
}

describe('the product never imports the sandbox', () => {
  it('eslint refuses an import of the sandbox from src/, workflows included', async () => {
    const code =
      "import { startDynatraceSimulator } from '../../sandbox/dynatrace/index.js';\nexport const s = startDynatraceSimulator;\n";
    expect(await lint('src/webhook/probe.ts', code)).toEqual([expect.stringMatching(/must not import the sandbox/)]);
    expect(await lint('src/workflows/shared/probe.ts', code.replace('../../', '../../../'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/must not import the sandbox/)]),
    );
  }, 60_000);

  it('lets the sandbox, the tests and the benchmarks use the product', async () => {
    const code = "import { loadConfig } from '../src/config/config.js';\nexport const l = loadConfig;\n";
    expect(await lint('sandbox/probe.ts', code)).toEqual([]);
  }, 60_000);
});
