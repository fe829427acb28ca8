import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStandardsActivities } from '../../src/activities/standards/index.js';
import type { SecretStore } from '../../src/secrets/secret-store.js';
import { ADOPT_ENVIRONMENTS, type AdoptEnvironmentsInput } from '../../src/shared/environments.js';
import { FailureType } from '../../src/shared/failure-types.js';
import {
  STANDARDS_APPLY,
  STANDARDS_PLAN,
  type StandardsApplyInput,
  type StandardsApplyResult,
  type StandardsPlanInput,
  type StandardsSet,
} from '../../src/shared/standards.js';
import { loadStandards, standardsHash } from '../../src/standards/load-standards.js';
import { quietActivityEnvironment, startTestbed, type Testbed } from '../helpers/autopilot.js';
import { historyText } from '../helpers/temporal.js';

const ENVIRONMENT = 'stdsecret-p1';
const PASSWORD = 'correct-horse-battery-staple';
const SSH_KEY =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-ops\n-----END OPENSSH PRIVATE KEY-----\n';

/** A paging profile and a webhook to an outside tool whose Authorization header is the named secret. */
const standardsWith = (secret: string) => `name: paging
kind: settings
schemaId: builtin:alerting.profile
value:
  name: Paging
  managementZone: null
  severityRules: [{ severityLevel: AVAILABILITY, delayInMinutes: 0, tagFilterIncludeMode: NONE }]
  eventFilters: []
---
name: outside-webhook
kind: settings
schemaId: builtin:problem.notifications
value:
  enabled: true
  type: WEBHOOK
  displayName: Outside tool
  alertingProfile: '{{ ref "paging" }}'
  webHookNotification:
    url: https://hooks.example.com/dynatrace
    headers:
      - { name: Authorization, secret: true, secretValue: '{{ secret "${secret}" }}' }
    payload: '{"problem":"{ProblemID}"}'
`;

/**
 * A set as a client in any language could hand it to a workflow: the accepted folder with its
 * secret reference swapped, and the hash computed afresh, as anyone can.
 */
function setNaming(secret: string, accepted: StandardsSet): StandardsSet {
  const standards = JSON.parse(
    JSON.stringify(accepted.standards).replaceAll('standards/webhook-password', secret),
  ) as StandardsSet['standards'];
  return { ...accepted, standards, hash: standardsHash(standards, accepted.prune) };
}

/** Standards may not publish the tokens and keys Autopilot holds: attacks from outside the loader. */
describe('standards and the secrets Autopilot holds for its own work', () => {
  let tb: Testbed;
  let accepted: StandardsSet;
  /** Every secret the activities asked the store for, by reference. */
  const reads: string[] = [];
  let spied: SecretStore;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  const automationToken = `dynatrace/${ENVIRONMENT}/automation-token`;

  const settingsOf = () => JSON.stringify([...tb.dt.simulator.state.environments.get(ENVIRONMENT)!.settings.values()]);
  const failureOf = async (promise: Promise<unknown>) => {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const activity = (err as WorkflowFailedError).cause;
    expect(activity).toBeInstanceOf(ActivityFailure);
    const failure = (activity as ActivityFailure).cause;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    return failure as ApplicationFailure;
  };

  beforeAll(async () => {
    tb = await startTestbed();
    const inner = tb.deps.secrets;
    spied = {
      kind: inner.kind,
      put: (ref, value, metadata) => inner.put(ref, value, metadata),
      get: (ref) => {
        reads.push(ref);
        return inner.get(ref);
      },
      delete: (ref) => inner.delete(ref),
    };
    worker = await tb.worker({ secrets: spied });
    running = worker.run();
    await tb.dt.client.cluster(tb.dt.clusterToken).putEnvironment(ENVIRONMENT, { name: 'Standards secrets' });
    await tb.env.client.workflow.execute(ADOPT_ENVIRONMENTS, {
      taskQueue: tb.taskQueue,
      workflowId: `adopt-${ENVIRONMENT}-${randomUUID()}`,
      args: [{ cluster: 'default', selector: ENVIRONMENT } satisfies AdoptEnvironmentsInput],
    });
    await inner.put('ssh/ops', SSH_KEY, { kind: 'ssh-private-key' });
    await inner.put('standards/webhook-password', PASSWORD, { kind: 'standards-secret' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'standards-secrets-'));
    writeFileSync(path.join(dir, 'webhook.yaml'), standardsWith('standards/webhook-password'));
    accepted = loadStandards(dir);
  }, 180_000);

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await tb?.teardown();
  });

  it.each([
    ['an environment automation token', automationToken],
    ['an SSH private key', 'ssh/ops'],
  ])(
    'a set naming %s, given to StandardsApply or StandardsPlan directly, fails as invalid input; no secret is read, nothing written',
    async (_what, ref) => {
      expect(await tb.deps.secrets.get(ref)).toBeDefined();
      const set = setNaming(ref, accepted);
      const before = settingsOf();
      reads.length = 0;
      // Both runs at once, each failure taken as it comes (neither rejection left unhandled meanwhile).
      const failures = await Promise.all([
        failureOf(
          tb.env.client.workflow.execute(STANDARDS_APPLY, {
            taskQueue: tb.taskQueue,
            workflowId: `standards-attack-${randomUUID()}`,
            args: [{ set, selector: ENVIRONMENT } satisfies StandardsApplyInput],
          }),
        ),
        failureOf(
          tb.env.client.workflow.execute(STANDARDS_PLAN, {
            taskQueue: tb.taskQueue,
            workflowId: `standards-attack-${randomUUID()}`,
            args: [{ set, selector: ENVIRONMENT } satisfies StandardsPlanInput],
          }),
        ),
      ]);
      for (const failure of failures) {
        expect(failure.type).toBe(FailureType.InvalidWorkflowInput);
        expect(failure.nonRetryable).toBe(true);
        expect(failure.message).toContain(`{{ secret "${ref}" }} names no secret stored for standards`);
      }
      expect(reads).toEqual([]);
      expect(settingsOf()).toBe(before);
    },
  );

  it('a set stored before the rule (straight into the fleet database) is refused by every run before a secret is read', async () => {
    const set = setNaming(automationToken, accepted);
    await tb.deps.standards.saveSet(set);
    const activities = createStandardsActivities({ ...tb.deps, secrets: spied });
    const before = settingsOf();
    reads.length = 0;
    const runs = [
      () =>
        activities.planStandards({
          setHash: set.hash,
          selector: ENVIRONMENT,
          planId: `attack-${randomUUID()}`,
          purpose: 'drift',
          concurrency: 1,
        }),
      () =>
        activities.applyStandards({
          setHash: set.hash,
          environmentIds: [ENVIRONMENT],
          enforceOnly: true,
          concurrency: 1,
        }),
    ];
    for (const run of runs) {
      const err = await quietActivityEnvironment()
        .run(run)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: FailureType.InvalidWorkflowInput, nonRetryable: true });
      expect((err as Error).message).toContain(`name secrets no standard may use (${automationToken})`);
    }
    expect(reads).toEqual([]);
    expect(settingsOf()).toBe(before);
  });

  it('a secret stored for standards reaches the settings object, and no plan or history holds it', async () => {
    reads.length = 0;
    const handle = await tb.env.client.workflow.start(STANDARDS_APPLY, {
      taskQueue: tb.taskQueue,
      workflowId: `standards-secret-${randomUUID()}`,
      args: [{ set: accepted, selector: ENVIRONMENT } satisfies StandardsApplyInput],
    });
    const result = (await handle.result()) as StandardsApplyResult;
    expect(result).toMatchObject({ phase: 'Completed', applied: 1, attention: [] });
    expect(reads).toContain('standards/webhook-password');
    const webhook = [...tb.dt.simulator.state.environments.get(ENVIRONMENT)!.settings.values()].find(
      (o) => o.schemaId === 'builtin:problem.notifications' && o.value.displayName === 'Outside tool',
    )!;
    expect(JSON.stringify(webhook.value)).toContain(`"secretValue":"${PASSWORD}"`);
    const rows = await tb.deps.standards.planItems(result.planId, { limit: 100, changesOnly: false });
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).toContain('(secret standards/webhook-password)');
    expect(JSON.stringify(rows)).not.toContain(PASSWORD);
    expect(await historyText(handle)).not.toContain(PASSWORD);
  });
});
