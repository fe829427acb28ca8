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

/** The references Autopilot uses, in one place. */
export const secretRefs = {
  tokenManagementToken: (environmentId: string) => `dynatrace/${environmentId.toLowerCase()}/token-management`,
  environmentToken: (environmentId: string, purpose: string) =>
    `dynatrace/${environmentId.toLowerCase()}/${purpose}-token`,
};
