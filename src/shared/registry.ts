/** Why Autopilot holds a token in an environment, and the least scopes it needs for that (reference §3.3). */
export const TOKEN_PURPOSES = {
  'installer-download': ['InstallerDownload'],
  automation: ['entities.read', 'problems.read', 'problems.write', 'settings.read', 'settings.write', 'DataExport'],
} as const satisfies Record<string, readonly string[]>;

export type TokenPurpose = keyof typeof TOKEN_PURPOSES;

/** A token Autopilot holds (or held) in an environment; its secret lives in the secret store. */
export interface RegisteredToken {
  tokenId: string;
  environmentId: string;
  purpose: TokenPurpose;
  secretRef: string;
  scopes: string[];
  expiresAt?: string;
  /** Tokens an operator handed us (`environments add`) are used, never rotated or revoked by us. */
  mintedByUs: boolean;
  state: 'current' | 'superseded' | 'revoked';
  revokeAfter?: string;
}

/** One environment of the registry. */
export interface RegisteredEnvironment {
  id: string;
  kind: 'managed' | 'saas';
  /** The Managed cluster it lives on (by the name in the clusters configuration). */
  cluster?: string;
  /** Where its API paths start: `https://cluster/e/abc-p1` (Managed) or `https://abc12345.live.dynatrace.com` (SaaS). */
  apiUrl: string;
  customer?: string;
  stage?: string;
  source: 'onboarded' | 'adopted' | 'registered';
  state: 'active' | 'needs-attention';
  attention?: string;
  /** Operators' labels (`tier:gold`, `eu`), matched by `tag:` in selectors. */
  tags: string[];
  scopesCheckedAt?: string;
  createdAt: string;
  updatedAt: string;
  tokens: RegisteredToken[];
}
