import type { SettingsStandard, StandardsSet } from '../shared/standards.js';
import { WEBHOOK_KEY_ID_HEADER, WEBHOOK_PAYLOAD_TEMPLATE } from '../shared/webhook.js';
import { standardsHash } from './load-standards.js';

/**
 * The problem notifications of the self-healing loop, as standards: onboarding writes them through
 * the same plan and writer as `autopilot standards apply`, and a standards folder can declare the
 * same two (examples/standards/self-healing.yaml) and so hold them to code. The external ids are the
 * ones onboarding always used, so existing environments keep their objects.
 */
export const SELF_HEALING_STANDARDS: SettingsStandard[] = [
  {
    name: 'self-healing-alerting-profile',
    kind: 'settings',
    description: 'CPU saturation forwarded at once (the Default profile holds resource contention back 30 minutes)',
    environments: '*',
    mode: 'enforce',
    overrides: [],
    unordered: [],
    source: 'built-in (onboarding)',
    externalId: 'dynatrace-autopilot:{{ environment.id }}:cpu-saturation',
    settings: {
      schemaId: 'builtin:alerting.profile',
      scope: 'environment',
      value: {
        name: 'Dynatrace Autopilot: CPU saturation ({{ environment.id }})',
        managementZone: null,
        severityRules: [{ severityLevel: 'RESOURCE_CONTENTION', delayInMinutes: 0, tagFilterIncludeMode: 'NONE' }],
        eventFilters: [{ type: 'PREDEFINED', predefinedFilter: { eventType: 'OSI_HIGH_CPU', negate: false } }],
      },
    },
  },
  {
    name: 'self-healing-webhook',
    kind: 'settings',
    description: "Problems of the profile above sent to Autopilot's webhook receiver with the environment's own key",
    environments: '*',
    mode: 'enforce',
    overrides: [],
    unordered: [],
    source: 'built-in (onboarding)',
    externalId: 'dynatrace-autopilot:{{ environment.id }}:webhook',
    settings: {
      schemaId: 'builtin:problem.notifications',
      scope: 'environment',
      value: {
        enabled: true,
        type: 'WEBHOOK',
        displayName: 'Dynatrace Autopilot self-healing ({{ environment.id }})',
        alertingProfile: '{{ ref "self-healing-alerting-profile" }}',
        webHookNotification: {
          url: '{{ autopilot.webhookUrl }}',
          acceptAnyCertificate: false,
          notifyEventMergesEnabled: false,
          notifyClosedProblems: true,
          headers: [
            {
              name: '{{ autopilot.webhookKeyHeader }}',
              secret: true,
              secretValue: '{{ secret "autopilot/webhook-key" }}',
            },
            { name: WEBHOOK_KEY_ID_HEADER, secret: false, value: '{{ autopilot.webhookKeyId }}' },
          ],
          payload: WEBHOOK_PAYLOAD_TEMPLATE,
        },
      },
    },
  },
];

export const SELF_HEALING_SET: StandardsSet = {
  hash: standardsHash(SELF_HEALING_STANDARDS, false),
  standards: SELF_HEALING_STANDARDS,
  prune: false,
  origin: { path: 'built-in (onboarding)' },
};
