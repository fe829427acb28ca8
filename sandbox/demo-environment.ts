import type { Client } from '@temporalio/client';
import { startOnboarding } from '../src/client/start-onboarding.js';

export interface DemoEnvironment {
  environmentId: string;
  hostName: string;
  entityId: string;
}

/**
 * The sandbox's ready-made scene for self-healing: environment `demo-p1` onboarded (so its problem
 * notifications reach our webhook), with host `vm-1` on the seeded EC2 instance.
 */
export async function seedDemoEnvironment(options: {
  client: Client;
  taskQueue: string;
  simulatorUrl: string;
  instanceId: string;
  instanceType: string;
}): Promise<DemoEnvironment> {
  const handle = await startOnboarding(
    options.client,
    { customer: 'demo', stage: 'p1' },
    { taskQueue: options.taskQueue },
  );
  await Promise.race([
    handle.result(),
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the demo onboarding did not finish within 2 minutes')), 120_000),
    ),
  ]);
  const response = await fetch(`${options.simulatorUrl}/_sim/environments/demo-p1/hosts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      hostName: 'vm-1',
      awsInstanceId: options.instanceId,
      awsInstanceType: options.instanceType,
    }),
  });
  if (!response.ok) throw new Error(`the simulator refused the demo host: HTTP ${response.status}`);
  const { entityId } = (await response.json()) as { entityId: string };
  return { environmentId: 'demo-p1', hostName: 'vm-1', entityId };
}
