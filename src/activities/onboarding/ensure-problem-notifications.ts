import { createHash } from 'node:crypto';
import { log } from '@temporalio/activity';
import type { SecretSource } from '../../config/secret.js';
import type { SettingsObject } from '../../dynatrace/index.js';
import { collect } from '../../dynatrace/pagination.js';
import { settingsValueMatches } from '../../dynatrace/settings-value-match.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import {
  DEFAULT_WEBHOOK_KEY_HEADER,
  WEBHOOK_KEY_ID_HEADER,
  WEBHOOK_PAYLOAD_TEMPLATE,
  webhookPath,
} from '../../shared/webhook.js';
import type { DynatraceAccess } from '../dynatrace-access.js';

export interface EnsuredNotifications {
  status: 'configured' | 'updated' | 'unchanged' | 'skipped';
  detail: string;
}

type EnsureAction = 'created' | 'updated' | 'unchanged';

interface EnsuredObject {
  objectId: string;
  action: EnsureAction;
  /** Other objects that carry our externalId (should not happen); left alone. */
  duplicates: string[];
}

const oldestFirst = (a: SettingsObject, b: SettingsObject) => (a.created ?? 0) - (b.created ?? 0);

export function createEnsureProblemNotifications(deps: {
  dynatrace: DynatraceAccess;
  secrets: SecretStore;
  webhook: { publicUrl: string | undefined; apiKey: SecretSource | undefined; keyHeader?: string };
}) {
  /**
   * Every onboarded environment feeds the self-healing loop: a dedicated alerting profile forwards
   * CPU saturation at once (the Default profile holds resource contention back 30 minutes, reference
   * §8.1), and a webhook notification sends it to our receiver with the shared key as a secret header.
   * Objects are ours by externalId and only written when they differ; nothing else is touched.
   */
  return async function ensureProblemNotifications(input: { environmentId: string }): Promise<EnsuredNotifications> {
    const { publicUrl, apiKey } = deps.webhook;
    if (!publicUrl || !apiKey) {
      return {
        status: 'skipped',
        detail: 'no webhook receiver configured (AUTOPILOT_WEBHOOK_PUBLIC_URL and WEBHOOK_API_KEY)',
      };
    }
    const key = apiKey.reveal();
    const { profile, webhook } = await deps.dynatrace.environments.withApi(
      input.environmentId,
      'automation',
      async ({ settings }) => {
        /**
         * Only an object that carries our externalId is ours. A cluster that predates the `externalIds`
         * filter ignores it and lists the whole schema, the `Default` profile and the customer's own
         * webhooks first (reference §13): those are never updated or deleted, whatever the list says.
         */
        const ensure = async (
          schemaId: string,
          externalId: string,
          value: Record<string, unknown>,
        ): Promise<EnsuredObject> => {
          const listed = await collect(settings.list({ externalIds: [externalId], schemaIds: [schemaId] }));
          const ours = listed
            .filter((o) => o.externalId === externalId && (o.schemaId === undefined || o.schemaId === schemaId))
            .sort(oldestFirst);
          if (ours.length < listed.length) {
            log.info('The cluster ignored the externalIds filter; objects of others left alone', {
              environmentId: input.environmentId,
              schemaId,
              others: listed.length - ours.length,
            });
          }
          const [existing, ...others] = ours;
          const duplicates = others.map((o) => o.objectId);
          if (duplicates.length > 0) {
            log.warn('Several settings objects carry our externalId; using the oldest, leaving the others alone', {
              environmentId: input.environmentId,
              externalId,
              used: existing!.objectId,
              duplicates,
            });
          }
          if (!existing) {
            const [objectId] = await settings.create([{ schemaId, scope: 'environment', externalId, value }]);
            return { objectId: objectId!, action: 'created', duplicates };
          }
          if (settingsValueMatches(schemaId, existing.value, value)) {
            return { objectId: existing.objectId, action: 'unchanged', duplicates };
          }
          await settings.update(existing.objectId, value);
          return { objectId: existing.objectId, action: 'updated', duplicates };
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
                { name: deps.webhook.keyHeader ?? DEFAULT_WEBHOOK_KEY_HEADER, secret: true, secretValue: key },
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
        return { profile, webhook };
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
    const duplicates = [
      ...profile.duplicates.map((id) => `alerting profile ${id}`),
      ...webhook.duplicates.map((id) => `webhook notification ${id}`),
    ];
    return {
      status,
      detail:
        `webhook to ${publicUrl}${webhookPath(input.environmentId)} via an immediate CPU-saturation profile` +
        (duplicates.length > 0
          ? `; duplicates with our externalId left alone (the oldest is used): ${duplicates.join(', ')}`
          : ''),
    };
  };
}
