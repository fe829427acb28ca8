import type { RegisteredEnvironment, RegisteredToken } from './registry.js';

/** A cluster's name in the clusters file, `--cluster` and the registry. */
export const CLUSTER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** An environment id as Dynatrace takes it (Managed: our `abc-p1`; SaaS: `abc12345`). */
export const ENVIRONMENT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export const ADOPT_ENVIRONMENTS = 'AdoptEnvironments';
export const REGISTRY_REQUEST = 'RegistryRequest';

/** One adoption per cluster and selector: a second start attaches to it, a rerun changes nothing. */
export const adoptionWorkflowId = (cluster: string, selector: string) =>
  `adopt:${cluster}:${selector.replace(/\s+/g, ' ').trim()}`;

export interface AdoptEnvironmentsInput {
  /** The cluster by its configured name; absent: the only one. */
  cluster?: string;
  selector: string;
  /** Environments one activity adopts. */
  batchSize?: number;
}

/** What the cluster has, and what Autopilot knows of each. */
export interface DiscoveredEnvironment {
  id: string;
  name: string;
  state: string;
  /** Absent: not in the registry. */
  registered?: RegisteredEnvironment['source'];
}

export interface AdoptedEnvironment {
  environmentId: string;
  action: 'adopted' | 'already-registered';
  minted: string[];
}

export interface AdoptionProgress {
  cluster: string;
  selector: string;
  matched: number;
  done: number;
  adopted: number;
  alreadyRegistered: number;
}

/** A token an operator hands Autopilot (`environments add`); its value waits in the secret store. */
export interface EnvironmentToAdd {
  id: string;
  /** SaaS: the environment's URL as pasted; Managed: optional, and if given its cluster's plus `/e/<id>`. */
  apiUrl?: string;
  kind: 'managed' | 'saas';
  /** Managed: the configured cluster; absent, the one at `apiUrl`'s host or the only one. */
  cluster?: string;
  /**
   * Where `environments add` staged the token (`staging/registry/<random>`); no other reference is
   * taken. The registration moves it or deletes it.
   */
  stagedSecretRef: string;
  /** An id that is registered already is refused unless this says to replace its registration. */
  replace?: boolean;
}

export type RegistryRequestInput =
  | { op: 'list'; selector?: string }
  | { op: 'show'; id: string }
  | { op: 'tokens'; expiringWithinDays?: number }
  | { op: 'discover'; cluster?: string }
  | { op: 'add'; environment: EnvironmentToAdd }
  | { op: 'remove'; id: string }
  | { op: 'tag'; id: string; add: string[]; remove: string[] };

export interface TokenListing extends RegisteredToken {
  daysLeft?: number;
}

export type RegistryRequestResult =
  | { op: 'list'; environments: RegisteredEnvironment[] }
  | { op: 'show'; environment?: RegisteredEnvironment }
  | { op: 'tokens'; tokens: TokenListing[] }
  | { op: 'discover'; cluster: string; environments: DiscoveredEnvironment[] }
  | { op: 'add'; environment: RegisteredEnvironment }
  | { op: 'remove'; removed: boolean; revoked: string[] }
  | { op: 'tag'; environment?: RegisteredEnvironment };
