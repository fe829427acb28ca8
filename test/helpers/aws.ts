import { randomBytes } from 'node:crypto';
import { SSMClient } from '@aws-sdk/client-ssm';
import { inject } from 'vitest';
import { createAwsClients, type AwsClients } from '../../src/aws/aws-clients.js';
import { fetchTemplate } from '../../src/aws/fetch-template.js';
import { startServiceCatalogEmulator, type ServiceCatalogEmulator } from '../../sandbox/aws/service-catalog/index.js';

export const testAwsConfig = () => ({
  region: 'us-east-1',
  endpoint: inject('motoUrl'),
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});

export const testSsmClient = () => new SSMClient(testAwsConfig());

export interface TestAws {
  clients: AwsClients;
  catalog: ServiceCatalogEmulator;
  /** Names of this test file's own bucket and parameter (moto is shared by the whole run). */
  bucket: string;
  approvedTypesParameter: string;
  stop(): Promise<void>;
}

/** The AWS side of self-healing: moto (EC2, S3, SSM) from the global setup and a Service Catalog emulator. */
export async function startTestAws(): Promise<TestAws> {
  // Service Catalog reads templates with its own S3 access, like the real service.
  const s3Reader = createAwsClients(testAwsConfig());
  const catalog = await startServiceCatalogEmulator({
    artifactReadyAfterMs: 200,
    fetchTemplate: (url) => fetchTemplate(s3Reader, url),
  });
  const suffix = randomBytes(4).toString('hex');
  return {
    clients: createAwsClients({ ...testAwsConfig(), serviceCatalogEndpoint: catalog.url }),
    catalog,
    bucket: `autopilot-templates-${suffix}`,
    approvedTypesParameter: `/autopilot-test/${suffix}/approvedinstancetypes`,
    stop: () => catalog.stop(),
  };
}
