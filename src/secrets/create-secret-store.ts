import { SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError, decodeKey, type AutopilotConfig } from '../config/config.js';
import { FileSecretStore } from './file-secret-store.js';
import type { SecretStore } from './secret-store.js';
import { SsmSecretStore } from './ssm-secret-store.js';

export function createSecretStore(config: AutopilotConfig, ssm?: SSMClient): SecretStore {
  if (config.secrets.store === 'ssm') {
    return new SsmSecretStore(
      ssm ?? new SSMClient({ region: config.aws.region }),
      config.secrets.ssmPrefix,
      config.secrets.ssmKmsKeyId,
    );
  }
  if (!config.secrets.fileKey) {
    throw new ConfigError(
      'AUTOPILOT_SECRET_KEY',
      '(or AUTOPILOT_SECRET_KEY_FILE) is required for the file secret store; generate one with `openssl rand -base64 32`, or set AUTOPILOT_SECRET_STORE=ssm',
    );
  }
  return new FileSecretStore(config.secrets.dir, decodeKey(config.secrets.fileKey.reveal())!);
}
