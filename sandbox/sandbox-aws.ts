import path from 'node:path';
import { createAwsClients, type AwsClients } from '../src/aws/aws-clients.js';
import { fetchTemplate } from '../src/aws/fetch-template.js';
import { startServiceCatalogEmulator, type ServiceCatalogEmulator } from './aws/service-catalog/index.js';
import { seedCatalogDemo, type CatalogDemo } from './catalog-demo.js';
import { startMotoServer, type MotoServer } from './moto-server.js';

export interface SandboxAws {
  clients: AwsClients;
  moto: MotoServer;
  catalog: ServiceCatalogEmulator;
  demo: CatalogDemo;
  bucket: string;
  approvedTypesParameter: string;
  stop(): Promise<void>;
}

/**
 * AWS for `npm start` without AWS configuration: moto (EC2, S3, SSM) and our Service Catalog
 * emulator, seeded with a web-server product, its approved sizes and one instance launched from it.
 * Both keep state in memory, so the demo is seeded afresh at every start.
 */
export async function startSandboxAws(options: {
  projectRoot: string;
  motoPort: number;
  bucket: string;
  approvedTypesParameter: string;
}): Promise<SandboxAws> {
  const moto = await startMotoServer({
    cliPath: path.join(options.projectRoot, '.tools/bin/moto_server'),
    port: options.motoPort,
  });
  const settings = {
    region: 'us-east-1',
    endpoint: moto.url,
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
  };
  const s3Reader = createAwsClients(settings);
  // Service Catalog reads templates with its own S3 access, like the real service.
  const catalog = await startServiceCatalogEmulator({
    artifactReadyAfterMs: 1_000,
    fetchTemplate: (url) => fetchTemplate(s3Reader, url),
  });
  const clients = createAwsClients({ ...settings, serviceCatalogEndpoint: catalog.url });
  const demo = await seedCatalogDemo({
    aws: clients,
    catalog,
    bucket: options.bucket,
    approvedTypesParameter: options.approvedTypesParameter,
    approvedTypes: ['t3.micro', 't3.small', 't3.medium', 't3.large', 't3.xlarge'],
    productName: 'web-server',
    instanceType: 't3.micro',
    templateFormat: 'yaml',
  });
  return {
    clients,
    moto,
    catalog,
    demo,
    bucket: options.bucket,
    approvedTypesParameter: options.approvedTypesParameter,
    async stop() {
      await catalog.stop();
      await moto.stop();
    },
  };
}
