import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOnboarding } from '../../src/client/start-onboarding.js';
import { Secret } from '../../src/config/secret.js';
import { collect } from '../../src/dynatrace/pagination.js';
import type { OnboardCustomerResult } from '../../src/shared/onboarding.js';
import { DEFAULT_WEBHOOK_KEY_HEADER, WEBHOOK_KEY_ID_HEADER } from '../../src/shared/webhook.js';
import { startTestbed, type Testbed } from '../helpers/autopilot.js';

const ENV = 'own-p1';
const PROFILE_EXTERNAL_ID = `dynatrace-autopilot:${ENV}:cpu-saturation`;
const WEBHOOK_EXTERNAL_ID = `dynatrace-autopilot:${ENV}:webhook`;

/**
 * A cluster that predates the Settings 2.0 `externalIds` filter lists every object of a schema,
 * the Default alerting profile and the customer's own webhook first (reference §13). Onboarding
 * must recognise its own objects by their externalId and leave everything else exactly as it was.
 */
describe('onboarding never touches settings objects it did not create', () => {
  let tb: Testbed;
  let envToken: string;
  let defaultProfileId: string;
  let customerWebhookId: string;
  let customerGroupId: string;
  let first: OnboardCustomerResult;

  /** What the simulator stores, secret values, modified time and updateToken included. */
  const stored = (objectId: string) =>
    JSON.stringify(tb.dt.simulator.state.environments.get(ENV)!.settings.get(objectId));
  /** What the API answers for the object, with every field. */
  const read = async (objectId: string) => {
    const response = await fetch(
      `${tb.dt.simulator.url}/e/${ENV}/api/v2/settings/objects/${encodeURIComponent(objectId)}`,
      { headers: { Authorization: `Api-Token ${envToken}` } },
    );
    expect(response.status).toBe(200);
    return response.text();
  };
  const onboard = async (): Promise<OnboardCustomerResult> => {
    const worker = await tb.worker();
    return worker.runUntil(
      (await startOnboarding(tb.env.client, { customer: 'own', stage: 'p1' }, { taskQueue: tb.taskQueue })).result(),
    );
  };

  beforeAll(async () => {
    tb = await startTestbed({ knobs: { settingsIgnoreExternalIdsFilter: true } });
    tb.deps.webhook = { publicUrl: 'http://127.0.0.1:9', apiKey: new Secret('customer-objects-webhook-key') };

    // The customer's environment exists already, with the built-in Default profile and a webhook of its own.
    envToken = (await tb.dt.environment(ENV)).token;
    const settings = tb.dt.client.environment(ENV, envToken).settings;
    const profiles = await collect(settings.list({ schemaIds: ['builtin:alerting.profile'] }));
    expect(profiles.map((p) => p.value.name)).toEqual(['Default']);
    defaultProfileId = profiles[0]!.objectId;
    const [webhookId] = await settings.create([
      {
        schemaId: 'builtin:problem.notifications',
        scope: 'environment',
        value: {
          enabled: true,
          type: 'WEBHOOK',
          displayName: 'Customer on-call',
          alertingProfile: defaultProfileId,
          webHookNotification: {
            url: 'https://oncall.customer.example/hook',
            headers: [
              { name: 'X-Team', secret: false, value: 'ops' },
              { name: 'Authorization', secret: true, secretValue: 'Bearer customer-own-secret' },
            ],
            payload: '{"State":"{State}","PID":"{PID}"}',
          },
        },
      },
    ]);
    customerWebhookId = webhookId!;
    // A group of the customer's, flagged as an access account, which onboarding will add rights to.
    ({ id: customerGroupId } = await tb.dt.client.cluster(tb.dt.clusterToken).createGroup({
      name: 'own-viewers',
      isAccessAccount: true,
      accessRight: {},
      ldapGroupNames: ['cn=own-staff'],
    }));
  });
  afterAll(async () => {
    await tb.teardown();
  });

  it('twice, with the filter ignored and settings calls throttled: Default and the customer webhook stay byte for byte', async () => {
    const defaultBefore = { stored: stored(defaultProfileId), read: await read(defaultProfileId) };
    const webhookBefore = { stored: stored(customerWebhookId), read: await read(customerWebhookId) };
    // Real clusters throttle; the steps retry through Temporal and must still write nothing twice.
    await tb.dt.control('/knobs', {
      faults: {
        rate429: 0.3,
        seed: 7,
        routes: ['GET /e/{environmentId}/api/v2/settings', 'POST /e/{environmentId}/api/v2/settings'],
      },
    });

    first = await onboard();
    expect(first.createdEnvironment).toBe(false);
    expect(first.notifications.status).toBe('configured');
    const second = await onboard();
    expect(second.notifications).toMatchObject({ status: 'unchanged' });
    expect(second.notifications.detail).not.toContain('duplicates');
    await tb.dt.control('/knobs', { faults: { rate429: 0 } });

    expect(stored(defaultProfileId)).toBe(defaultBefore.stored);
    expect(await read(defaultProfileId)).toBe(defaultBefore.read);
    expect(stored(customerWebhookId)).toBe(webhookBefore.stored);
    expect(await read(customerWebhookId)).toBe(webhookBefore.read);

    const objects = [...tb.dt.simulator.state.environments.get(ENV)!.settings.values()];
    expect(objects.filter((o) => o.externalId === PROFILE_EXTERNAL_ID)).toHaveLength(1);
    expect(objects.filter((o) => o.externalId === WEBHOOK_EXTERNAL_ID)).toHaveLength(1);
    expect(objects).toHaveLength(4);
    const ours = objects.find((o) => o.externalId === WEBHOOK_EXTERNAL_ID)!;
    // Stored in the server's own order, not the one onboarding sends, and still "unchanged" on the second run.
    const names = (ours.value.webHookNotification as { headers: { name: string }[] }).headers.map((h) => h.name);
    expect(names).toEqual([WEBHOOK_KEY_ID_HEADER, DEFAULT_WEBHOOK_KEY_HEADER]);
    const stats = await tb.dt.stats();
    expect(stats.faultsInjected.error429).toBeGreaterThan(0);
    // Nothing was ever updated or deleted: the only settings calls were lists and our two creates.
    const settingsRoutes = Object.keys(stats.requests).filter((r) => r.includes('/api/v2/settings/'));
    expect(settingsRoutes.sort()).toEqual([
      'GET /e/{environmentId}/api/v2/settings/objects',
      'GET /e/{environmentId}/api/v2/settings/objects/{objectId}',
      'POST /e/{environmentId}/api/v2/settings/objects',
    ]);
    expect(stats.requests['POST /e/{environmentId}/api/v2/settings/objects']?.[200]).toBe(3);
  });

  it('keeps the write-only account flag of the group it merged rights into on those runs', async () => {
    expect(first.groups).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'own-viewers', action: 'updated' })]),
    );
    const group = tb.dt.simulator.state.groups.get(customerGroupId)!;
    expect(group.accessRight).toEqual({ VIEWER: [ENV] });
    expect(group.ldapGroupNames).toEqual(['cn=own-staff']);
    expect(group.isAccessAccount).toBe(true);
    // Read back only as the read-only flag, which the client maps to the writable spelling.
    expect(await tb.dt.client.cluster(tb.dt.clusterToken).getGroup(customerGroupId)).toMatchObject({
      isAccessAccount: true,
      isManageAccount: false,
    });
  });
});
