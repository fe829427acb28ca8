import { randomBytes } from 'node:crypto';

/**
 * Where tokens live. Workflows only ever see a secret's reference (its name); activities resolve
 * the reference here, use the value, and drop it.
 */
export interface StoredSecret {
  value: string;
  /** Non-secret facts about the value (token id, expiry), for deciding on reuse or rotation. */
  metadata: Record<string, string>;
  updatedAt: string;
}

export interface SecretStore {
  readonly kind: 'file' | 'ssm';
  put(ref: string, value: string, metadata?: Record<string, string>): Promise<void>;
  get(ref: string): Promise<StoredSecret | undefined>;
  delete(ref: string): Promise<void>;
}

const REF = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*){0,9}$/;

/** References are path-like names (`dynatrace/abc-p1/installer-download`), safe as file and SSM names. */
export function assertSecretRef(ref: string): void {
  if (ref.length > 300 || !REF.test(ref)) {
    throw new TypeError(`invalid secret reference ${JSON.stringify(ref)}: expected lowercase path segments`);
  }
}

const REGISTRATION_STAGING_PREFIX = 'staging/registry/';
// What `registrationStaging` makes, and nothing but lowercase hex of a random-name length after the prefix.
const REGISTRATION_STAGING = /^staging\/registry\/[0-9a-f]{16,64}$/;

/** The references Autopilot uses, in one place. */
export const secretRefs = {
  tokenManagementToken: (environmentId: string) => `dynatrace/${environmentId.toLowerCase()}/token-management`,
  environmentToken: (environmentId: string, purpose: string) =>
    `dynatrace/${environmentId.toLowerCase()}/${purpose}-token`,
  /**
   * Where `autopilot environments add` leaves a token for the registration to take: a fresh random
   * name under a prefix of its own, so a reference in a registration can name nothing else.
   */
  registrationStaging: () => `${REGISTRATION_STAGING_PREFIX}${randomBytes(16).toString('hex')}`,
};

/** Whether `ref` is one `secretRefs.registrationStaging` makes: the only kind a registration reads and deletes. */
export function isRegistrationStagingRef(ref: unknown): ref is string {
  return typeof ref === 'string' && REGISTRATION_STAGING.test(ref);
}
