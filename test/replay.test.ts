import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { projectRoot } from '../src/config/config.js';
import { installTestRuntime, testDataConverter } from './helpers/temporal.js';

const historiesDir = path.join(projectRoot, 'test', 'histories');

/**
 * Determinism guard: every history recorded from a real run (AUTOPILOT_RECORD_HISTORIES=1 npm test)
 * must replay against today's workflow code. A change that alters the command sequence of an
 * existing workflow needs `patched()` instead of breaking runs in flight.
 */
describe('workflow histories replay against the current code', () => {
  const files = readdirSync(historiesDir).filter((f) => f.endsWith('.json'));

  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it('replays every recorded history without a determinism error', async () => {
    installTestRuntime();
    const histories = files.map((file) => ({
      workflowId: file.replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8'))),
    }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: testDataConverter },
      histories,
    )) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  });
});
