import { readFileSync } from 'node:fs';
import type { AutopilotConfig } from '../config/config.js';
import { DEFAULT_CLUSTER_CONCURRENCY } from '../config/clusters-file.js';
import { ConfigError } from '../config/config-error.js';
import type { SecretSource } from '../config/secret.js';
import type { ClusterEndpoint } from '../dynatrace/dynatrace-clients.js';

/**
 * The Managed clusters a worker reaches: those of AUTOPILOT_CLUSTERS_FILE, and the one of
 * DT_CLUSTER_URL (named DT_CLUSTER_NAME) that keeps working on its own. `single` stands in for
 * DT_CLUSTER_URL where the sandbox runs a simulator.
 */
export function clusterEndpoints(
  config: AutopilotConfig,
  single?: { url: string; clusterToken: SecretSource },
): ClusterEndpoint[] {
  const { dynatrace } = config;
  const url = single?.url ?? dynatrace.clusterUrl;
  const token = single?.clusterToken ?? dynatrace.clusterToken;
  const fromFile = dynatrace.clustersFile ?? [];
  const endpoints = [...fromFile];
  if (url && token) {
    if (fromFile.some((c) => c.name === dynatrace.clusterName)) {
      throw new ConfigError(
        'DT_CLUSTER_NAME',
        `${dynatrace.clusterName} is also a cluster of AUTOPILOT_CLUSTERS_FILE; give DT_CLUSTER_URL another name`,
      );
    }
    endpoints.unshift({
      name: dynatrace.clusterName,
      url,
      token,
      ...(dynatrace.caCertificateFile ? { caCertificate: readFileSync(dynatrace.caCertificateFile, 'utf8') } : {}),
      maxConcurrentRequests: DEFAULT_CLUSTER_CONCURRENCY,
      maxConcurrentRequestsPerEnvironment: dynatrace.maxConcurrentPerEnvironment,
    });
  }
  return endpoints;
}
