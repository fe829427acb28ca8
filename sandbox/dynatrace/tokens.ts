import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function randomAlphanumeric(length: number, alphabet = ALPHABET): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i]! % alphabet.length];
  return out;
}

/** `dt0c01.<24-char public id>.<64-char secret>`: the shape of real Dynatrace tokens (reference §0.2). */
export function generateToken(): { id: string; token: string } {
  const id = `dt0c01.${randomAlphanumeric(24)}`;
  return { id, token: `${id}.${randomAlphanumeric(64)}` };
}

/** The public token id, which Dynatrace treats as safe to log. */
export function tokenId(token: string): string {
  const parts = token.split('.');
  return parts.length === 3 ? `${parts[0]}.${parts[1]}` : token.slice(0, 8);
}

export const CLUSTER_SCOPES = [
  'DiagnosticExport',
  'ControlManagement',
  'UnattendedInstall',
  'ServiceProviderAPI',
  'ExternalSyntheticIntegration',
  'ClusterTokenManagement',
  'ReadSyntheticData',
  'Nodekeeper',
  'EnvironmentTokenManagement',
  'activeGateTokenManagement.read',
  'activeGateTokenManagement.create',
  'activeGateTokenManagement.write',
  'settings.read',
  'settings.write',
  'apiTokens.read',
  'apiTokens.write',
] as const;

/** Labels as Dynatrace shows them in "Token is missing required scope. Use one of: x (Label)". */
export const SCOPE_LABELS: Record<string, string> = {
  ServiceProviderAPI: 'Service Provider API',
  EnvironmentTokenManagement: 'Environment token management',
  ClusterTokenManagement: 'Cluster token management',
  'apiTokens.read': 'Read API tokens',
  'apiTokens.write': 'Write API tokens',
  TenantTokenManagement: 'Token management',
  InstallerDownload: 'PaaS integration - Installer download',
  DataExport: 'Access problem and event feed, metrics, and topology',
  'entities.read': 'Read entities',
  'entities.write': 'Write entities',
  'problems.read': 'Read problems',
  'problems.write': 'Write problems',
  'settings.read': 'Read settings',
  'settings.write': 'Write settings',
  'oneAgents.read': 'Read OneAgents',
  'oneAgents.write': 'Write OneAgents',
  ReadConfig: 'Read configuration',
  WriteConfig: 'Write configuration',
  'metrics.read': 'Read metrics',
  'metrics.ingest': 'Ingest metrics',
  'events.read': 'Read events',
  'events.ingest': 'Ingest events',
  'logs.read': 'Read logs',
  'logs.ingest': 'Ingest logs',
  ActiveGateCertManagement: 'ActiveGate certificate management',
  PluginUpload: 'Upload extension',
  ExternalSyntheticIntegration: 'Create and read synthetic monitors, locations, and nodes',
};

export const ENVIRONMENT_SCOPES = Object.keys(SCOPE_LABELS).filter(
  (s) => !['ServiceProviderAPI', 'EnvironmentTokenManagement', 'ClusterTokenManagement'].includes(s),
);

export function scopeList(scopes: readonly string[]): string {
  return scopes.map((s) => `${s} (${SCOPE_LABELS[s] ?? s})`).join(', ');
}
