import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { ServiceCatalogClient } from '@aws-sdk/client-service-catalog';
import { SSMClient } from '@aws-sdk/client-ssm';

export interface AwsSettings {
  region: string;
  /** One endpoint for EC2, S3 and SSM (moto in the sandbox and tests); the AWS default when unset. */
  endpoint?: string;
  /** Service Catalog's own endpoint (our emulator, since moto lacks the artifact operations). */
  serviceCatalogEndpoint?: string;
  /** Static credentials for emulators; the default provider chain (roles, profiles) otherwise. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface AwsClients {
  region: string;
  ec2: EC2Client;
  s3: S3Client;
  ssm: SSMClient;
  serviceCatalog: ServiceCatalogClient;
  /** Set when S3 is an emulator: template URLs are then path-style against it. */
  s3Endpoint?: string;
}

/**
 * The AWS SDK v3 clients the remediation uses. Without explicit endpoints the SDK's own
 * configuration applies (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SERVICE_CATALOG, profiles, roles).
 */
export function createAwsClients(settings: AwsSettings): AwsClients {
  const common = { region: settings.region, ...(settings.credentials ? { credentials: settings.credentials } : {}) };
  const endpoint = settings.endpoint ? { endpoint: settings.endpoint } : {};
  return {
    region: settings.region,
    ec2: new EC2Client({ ...common, ...endpoint }),
    s3: new S3Client({ ...common, ...endpoint, ...(settings.endpoint ? { forcePathStyle: true } : {}) }),
    ssm: new SSMClient({ ...common, ...endpoint }),
    serviceCatalog: new ServiceCatalogClient({
      ...common,
      ...(settings.serviceCatalogEndpoint ? { endpoint: settings.serviceCatalogEndpoint } : endpoint),
    }),
    ...(settings.endpoint ? { s3Endpoint: settings.endpoint } : {}),
  };
}
