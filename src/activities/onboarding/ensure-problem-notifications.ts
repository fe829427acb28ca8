import { createHash } from 'node:crypto';
import { log } from '@temporalio/activity';
import type { SecretSource } from '../../config/secret.js';
import { collect } from '../../dynatrace/pagination.js';
import type { SettingsObject } from '../../dynatrace/index.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { secretRefs } from '../../secrets/secret-store.js';
import {
  WEBHOOK_KEY_HEADER,
  WEBHOOK_KEY_ID_HEADER,
  WEBHOOK_PAYLOAD_TEMPLATE,
  webhookPath,
} from '../../shared/webhook.js';
import { requireStoredToken, type DynatraceAccess } from '../dynatrace-access.js';

export interface EnsuredNotifications {
  status: 'configured' | 'updated' | 'unchanged' | 'skipped';
  detail: string;
}

/** True when every field we set has the value we want (the server may add defaults of its own). */
function contains(actual: unknown, desired: unknown): boolean {
  if (Array.isArray(desired)) {
    return Array.isArray(actual) && actual.length === desired.length && desired.every((d, i) => contains(actual[i], d));
  }
  if (desired !== null && typeof desired === 'object') {
    if (actual === null || typeof actual !== 'object') return false;
    return Object.entries(desired).every(
      ([k, v]) => k === 'secretValue' || contains((actual as Record<string, unknown>)[k], v),
    );
  }
  return actual === desired;
}

export function createEnsureProblemNotifications(deps: {
  dynatrace: DynatraceAccess;
  secrets: SecretStore;
  webhook: { publicUrl: string | undefined; apiKey: SecretSource | undefined };
}) {
  /**
   * Every onboarded environment feeds the self-healing loop: a dedicated alerting profile forwards
   * CPU saturation at once (the Default profile holds resource contention back 30 minutes, reference
   * §8.1), and a webhook notification sends it to our receiver with the shared key as a secret header.
   * Objects are found by externalId and only written when they differ.
   */
  return async function ensureProblemNotifications(input: { environmentId: string }): Promise<EnsuredNotifications> {
    const { publicUrl, apiKey } = deps.webhook;
    if (!publicUrl || !apiKey) {
      return {
        status: 'skipped',
        detail: 'no webhook receiver configured (AUTOPILOT_WEBHOOK_PUBLIC_URL and WEBHOOK_API_KEY)',
      };
    }
    const token = await requireStoredToken(
      deps.secrets,
      secretRefs.environmentToken(input.environmentId, 'automation'),
      'automation token',
    );
    const settings = deps.dynatrace.client.environment(input.environmentId, token).settings;
    const key = apiKey.reveal();

    const ensure = async (schemaId: string, externalId: string, value: Record<string, unknown>) => {
      const [existing]: SettingsObject[] = await collect(
        settings.list({ externalIds: [externalId], schemaIds: [schemaId] }),
      );
      if (!existing) {
        const [objectId] = await settings.create([{ schemaId, scope: 'environment', externalId, value }]);
        return { objectId: objectId!, action: 'created' as const };
      }
      if (contains(existing.value, value)) return { objectId: existing.objectId, action: 'unchanged' as const };
      await settings.update(existing.objectId, value);
      return { objectId: existing.objectId, action: 'updated' as const };
    };

    const profile = await ensure(
      'builtin:alerting.profile',
      `dynatrace-autopilot:${input.environmentId}:cpu-saturation`,
      {
        name: `Dynatrace Autopilot: CPU saturation (${input.environmentId})`,
        managementZone: null,
        severityRules: [{ severityLevel: 'RESOURCE_CONTENTION', delayInMinutes: 0, tagFilterIncludeMode: 'NONE' }],
        eventFilters: [{ type: 'PREDEFINED', predefinedFilter: { eventType: 'OSI_HIGH_CPU', negate: false } }],
      },
    );
    const webhook = await ensure(
      'builtin:problem.notifications',
      `dynatrace-autopilot:${input.environmentId}:webhook`,
      {
        enabled: true,
        type: 'WEBHOOK',
        displayName: `Dynatrace Autopilot self-healing (${input.environmentId})`,
        alertingProfile: profile.objectId,
        webHookNotification: {
          url: `${publicUrl}${webhookPath(input.environmentId)}`,
          acceptAnyCertificate: false,
          notifyEventMergesEnabled: false,
          notifyClosedProblems: true,
          headers: [
            { name: WEBHOOK_KEY_HEADER, secret: true, secretValue: key },
            // The secret cannot be read back; its fingerprint tells whether the key was rotated.
            {
              name: WEBHOOK_KEY_ID_HEADER,
              secret: false,
              value: createHash('sha256').update(key).digest('hex').slice(0, 12),
            },
          ],
          payload: WEBHOOK_PAYLOAD_TEMPLATE,
        },
      },
    );
    const status =
      profile.action === 'created' || webhook.action === 'created'
        ? 'configured'
        : profile.action === 'updated' || webhook.action === 'updated'
          ? 'updated'
          : 'unchanged';
    log.info('Problem notifications ensured', {
      environmentId: input.environmentId,
      profile: profile.action,
      webhook: webhook.action,
    });
    return {
      status,
      detail: `webhook to ${publicUrl}${webhookPath(input.environmentId)} via an immediate CPU-saturation profile`,
    };
  };
}
