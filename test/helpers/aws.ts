import { SSMClient } from '@aws-sdk/client-ssm';
import { inject } from 'vitest';

export const testAwsConfig = () => ({
  region: 'us-east-1',
  endpoint: inject('motoUrl'),
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});

export const testSsmClient = () => new SSMClient(testAwsConfig());
