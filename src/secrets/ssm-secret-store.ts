import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { assertSecretRef, type SecretStore, type StoredSecret } from './secret-store.js';

/**
 * AWS SSM Parameter Store `SecureString` parameters under a prefix (`/dynatrace-autopilot/...`),
 * encrypted with the account's SSM key or a configured KMS key. The value is a small JSON envelope
 * so metadata travels with the secret (standard tier holds 4 KB).
 */
export class SsmSecretStore implements SecretStore {
  readonly kind = 'ssm' as const;

  constructor(
    private readonly ssm: SSMClient,
    private readonly prefix: string,
    private readonly kmsKeyId?: string,
  ) {
    if (!/^\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(prefix) || /^\/(aws|ssm)/i.test(prefix)) {
      throw new TypeError(`invalid SSM parameter prefix ${JSON.stringify(prefix)}`);
    }
  }

  private name(ref: string): string {
    assertSecretRef(ref);
    return `${this.prefix}/${ref}`;
  }

  async put(ref: string, value: string, metadata: Record<string, string> = {}): Promise<void> {
    await this.ssm.send(
      new PutParameterCommand({
        Name: this.name(ref),
        Type: 'SecureString',
        Overwrite: true,
        Value: JSON.stringify({ value, metadata, updatedAt: new Date().toISOString() } satisfies StoredSecret),
        ...(this.kmsKeyId ? { KeyId: this.kmsKeyId } : {}),
      }),
    );
  }

  async get(ref: string): Promise<StoredSecret | undefined> {
    try {
      const { Parameter } = await this.ssm.send(
        new GetParameterCommand({ Name: this.name(ref), WithDecryption: true }),
      );
      return Parameter?.Value === undefined ? undefined : (JSON.parse(Parameter.Value) as StoredSecret);
    } catch (err) {
      if (err instanceof ParameterNotFound) return undefined;
      throw err;
    }
  }

  async delete(ref: string): Promise<void> {
    try {
      await this.ssm.send(new DeleteParameterCommand({ Name: this.name(ref) }));
    } catch (err) {
      if (!(err instanceof ParameterNotFound)) throw err;
    }
  }
}
