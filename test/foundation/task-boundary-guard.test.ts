import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type InjectedSinks } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { projectRoot } from '../../src/config/config.js';
import { quietBundlerLogger, workflowBundleOptions } from '../../src/workers/workflow-bundle.js';
import { ClockedDecision, nudgeSignal, nudgesQuery, type DecisionSinks } from '../fixtures/task-boundary/workflows.js';
import { cleanEnv, spawnEntryPoint } from '../helpers/processes.js';
import { installTestRuntime, uniqueTaskQueue } from '../helpers/temporal.js';

const fixtures = path.join(projectRoot, 'test', 'fixtures', 'task-boundary');

async function bundle(dir: string, guarded: boolean): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(fixtures, 'workflows.ts'),
    ...(guarded
      ? {
          workflowInterceptorModules: workflowBundleOptions.workflowInterceptorModules.filter((m) =>
            m.includes('task-boundary-guard'),
          ),
        }
      : {}),
    logger: quietBundlerLogger,
  });
  const file = path.join(dir, guarded ? 'guarded.js' : 'unguarded.js');
  writeFileSync(file, code);
  return file;
}

/** What the run decides when a worker replays this history (as it does to answer a query). */
async function decisionsReplaying(codePath: string, history: Parameters<typeof Worker.runReplayHistory>[1]) {
  const decided: string[] = [];
  const sinks: InjectedSinks<DecisionSinks> = {
    decisions: { decided: { fn: (_info, branch) => void decided.push(branch), callDuringReplay: true } },
  };
  await Worker.runReplayHistory({ workflowBundle: { codePath }, sinks }, history, 'replay');
  return decided;
}

describe('no query advances a run outside a workflow task', () => {
  it(
    'the history a query gets after a crash (events no task has processed) is refused, and the run goes on from its next task',
    { timeout: 180_000 },
    async () => {
      installTestRuntime();
      const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-task-boundary-'));
      const [guarded, unguarded] = [await bundle(dir, true), await bundle(dir, false)];
      const address = inject('temporalAddress');
      const namespace = inject('temporalNamespace');
      const taskQueue = uniqueTaskQueue('task-boundary');
      const connection = await Connection.connect({ address });
      const client = new Client({ connection, namespace });
      const crashing = spawnEntryPoint(
        path.join(fixtures, 'worker.ts'),
        cleanEnv({ TB_ADDRESS: address, TB_NAMESPACE: namespace, TB_TASK_QUEUE: taskQueue, TB_BUNDLE: guarded }),
      );
      let other: Worker | undefined;
      let otherRun: Promise<void> | undefined;
      try {
        await crashing.waitForOutput(/worker polling/, 60_000);
        const handle = await client.workflow.start(ClockedDecision, { taskQueue, workflowId: `clocked-${taskQueue}` });
        while ((await handle.describe()).historyLength < 4) await sleep(100);
        crashing.child.kill('SIGKILL');
        await crashing.exit;

        // A nudge no worker has processed: its task waits on the dead worker's sticky queue. This
        // history is what a worker gets to answer a query now, the chaos run's case.
        await handle.signal(nudgeSignal);
        const pending = await handle.fetchHistory();
        expect(pending.events?.at(-1)?.eventType).toBe(5); // WORKFLOW_TASK_SCHEDULED, not started

        // Without the guard the SDK applies the nudge at the clock of the last task, 0 s after the
        // start, and a worker answering a query would keep that decision for the nudge's own task
        // (see the guard module). With it, nothing is decided outside a task.
        expect(await decisionsReplaying(unguarded, pending)).toEqual(['early']);
        expect(await decisionsReplaying(guarded, pending)).toEqual([]);

        // The run goes on from its own next task (after the sticky timeout), by that task's clock.
        await sleep(6_000);
        other = await Worker.create({
          connection: await NativeConnection.connect({ address }),
          namespace,
          taskQueue,
          workflowBundle: { codePath: guarded },
          sinks: { decisions: { decided: { fn() {} } } } satisfies InjectedSinks<DecisionSinks>,
        });
        otherRun = other.run();
        expect(await handle.result()).toBe('late');
        const done = await handle.fetchHistory();
        expect(await decisionsReplaying(guarded, done)).toEqual(['late']);
        // A closed run's last events reach a query with nothing to apply: it is answered.
        expect(await handle.query(nudgesQuery)).toBe(1);
      } finally {
        crashing.child.kill('SIGKILL');
        if (other?.getState() === 'RUNNING') other.shutdown();
        await otherRun?.catch(() => undefined);
        await connection.close();
      }
    },
  );
});
