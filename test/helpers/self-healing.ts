import { Secret } from '../../src/config/secret.js';
import { createJsonLogger } from '../../src/observability/json-logger.js';
import { seedCatalogDemo, type CatalogDemo } from '../../sandbox/catalog-demo.js';
import {
  remediationPolicySchema,
  remediationWorkflowId,
  type RemediationStatus,
} from '../../src/shared/remediation.js';
import { WebhookKeys, type WebhookKeyMode } from '../../src/webhook/webhook-keys.js';
import { createWebhookServer } from '../../src/webhook/webhook-server.js';
import { remediationStatusQuery } from '../../src/workflows/shared/remediation-signals.js';
import type { Testbed } from './autopilot.js';
import type { TestAws } from './aws.js';
import { until } from './until.js';

export const APPROVED_TYPES = ['t3.micro', 't3.small', 't3.medium', 't3.large'];

/**
 * The problem-notification receiver on a free port, handing notifications to the testbed's task
 * queue: `key` is the master key (per-environment keys unless `keyMode` says shared), and the
 * testbed's registry says which environments exist.
 */
export async function startTestReceiver(
  tb: Testbed,
  options: { key: string; keyHeader?: string; keyMode?: WebhookKeyMode; maxBodyBytes?: number },
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createWebhookServer({
    client: tb.env.client,
    taskQueue: tb.taskQueue,
    keys: new WebhookKeys({ master: new Secret(options.key), mode: options.keyMode ?? 'per-environment' }),
    environments: tb.registry,
    ...(options.keyHeader ? { keyHeader: options.keyHeader } : {}),
    policy: remediationPolicySchema.parse({ threshold: 3, window: '1 hour', cooldown: '10 minutes' }),
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    logger: createJsonLogger('ERROR', () => undefined),
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`,
    close: () => server.app.close(),
  };
}

/** What the self-healing tests do to the simulator and the AWS side, and how they watch the outcome. */
export function selfHealingKit(tb: Testbed, aws: TestAws) {
  return {
    /** A Service Catalog product whose instances start on the smallest approved type. */
    seedProduct: (productName: string, instances = 1): Promise<CatalogDemo> =>
      seedCatalogDemo({
        aws: aws.clients,
        catalog: aws.catalog,
        bucket: aws.bucket,
        approvedTypesParameter: aws.approvedTypesParameter,
        approvedTypes: APPROVED_TYPES,
        productName,
        instanceType: 't3.micro',
        instances,
        templateFormat: 'yaml',
      }),

    /** A host of the environment, running on that EC2 instance. */
    addHost: async (environmentId: string, hostName: string, instanceId: string) =>
      (
        await tb.dt.control<{ entityId: string }>(`/environments/${environmentId}/hosts`, {
          hostName,
          awsInstanceId: instanceId,
          awsInstanceType: 't3.micro',
        })
      ).entityId,

    /** One problem, delivered by the simulator through the environment's webhook settings (202 awaited). */
    raise: async (environmentId: string, hostName: string, shape: Record<string, unknown> = {}) => {
      const problem = await tb.dt.control<{ problemId: string; displayId: string }>('/problems', {
        environmentId,
        hostName,
        ...shape,
      });
      await until('the notification to arrive', async () =>
        (await tb.dt.stats()).deliveries.some((d) => d.problemId === problem.problemId && d.status === 202)
          ? true
          : undefined,
      );
      return problem;
    },

    status: (environmentId: string, hostEntityId: string): Promise<RemediationStatus> =>
      tb.env.client.workflow
        .getHandle(remediationWorkflowId(environmentId, hostEntityId))
        .query(remediationStatusQuery),

    /** Our comments on a problem (context `dynatrace-autopilot`). */
    autopilotComments: (environmentId: string, problemId: string) =>
      tb.dt.simulator.state.environments
        .get(environmentId)!
        .problems.get(problemId)!
        .comments.filter((c) => c.context === 'dynatrace-autopilot'),
  };
}
