import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { clusterEndpoints } from '../../src/workers/cluster-endpoints.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-clusters-'));
writeFileSync(path.join(dir, 'eu1.token'), 'dt0c01.EU1TOKEN.secret\n');
writeFileSync(path.join(dir, 'us1.token'), 'dt0c01.US1TOKEN.secret\n');

const clustersFile = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

const configWith = (file: string, extra: Record<string, string> = {}) =>
  loadConfig({ AUTOPILOT_CLUSTERS_FILE: file, AUTOPILOT_METRICS_ADDRESS: 'off', ...extra });

const failureOf = (file: string) => {
  try {
    configWith(file);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the clusters file was accepted');
};

describe('the clusters file (AUTOPILOT_CLUSTERS_FILE)', () => {
  it('names several clusters, each with its token file, and keeps DT_CLUSTER_URL working beside them', () => {
    const file = clustersFile(
      'good.yaml',
      [
        'clusters:',
        '  - name: eu1',
        '    url: https://managed-eu1.example.com/',
        '    tokenFile: eu1.token',
        '    maxConcurrentRequests: 80',
        '  - name: us1',
        '    url: https://managed-us1.example.com',
        '    tokenFile: us1.token',
        '    maxConcurrentRequestsPerEnvironment: 3',
      ].join('\n'),
    );
    const config = configWith(file, { DT_CLUSTER_URL: 'https://legacy.example.com', DT_CLUSTER_TOKEN: 'dt0c01.L.s' });
    const endpoints = clusterEndpoints(config);
    expect(
      endpoints.map((e) => [e.name, e.url, e.maxConcurrentRequests, e.maxConcurrentRequestsPerEnvironment]),
    ).toEqual([
      ['default', 'https://legacy.example.com', 50, 5],
      ['eu1', 'https://managed-eu1.example.com', 80, 5],
      ['us1', 'https://managed-us1.example.com', 50, 3],
    ]);
    expect(endpoints[1]!.token.reveal()).toBe('dt0c01.EU1TOKEN.secret');
    // The token is never printed with the configuration.
    expect(JSON.stringify(endpoints)).not.toContain('secret');
  });

  it('names the file, the line and the field of a mistake', () => {
    expect(
      failureOf(
        clustersFile('bad-url.yaml', 'clusters:\n  - name: eu1\n    url: managed-eu1\n    tokenFile: eu1.token\n'),
      ),
    ).toBe(
      `Invalid configuration: AUTOPILOT_CLUSTERS_FILE ${dir}/bad-url.yaml:3: clusters[0].url must be the cluster base URL, e.g. https://managed.example.com`,
    );
    expect(
      failureOf(
        clustersFile(
          'plain-http.yaml',
          'clusters:\n  - name: eu1\n    url: https://a.example.com\n    tokenFile: eu1.token\n  - name: us1\n    url: http://b.example.com\n    tokenFile: us1.token\n',
        ),
      ),
    ).toBe(
      `Invalid configuration: AUTOPILOT_CLUSTERS_FILE ${dir}/plain-http.yaml:6: clusters[1].url must be an https URL: the cluster token and environment tokens are sent to it`,
    );
    expect(
      failureOf(
        clustersFile(
          'unknown.yaml',
          'clusters:\n  - name: eu1\n    url: https://a.example.com\n    tokenFile: eu1.token\n    token: x\n',
        ),
      ),
    ).toMatch(/unknown\.yaml:2: clusters\[0\]\.token /);
    expect(
      failureOf(
        clustersFile(
          'twice.yaml',
          'clusters:\n  - name: eu1\n    url: https://a.example.com\n    tokenFile: eu1.token\n  - name: eu1\n    url: https://b.example.com\n    tokenFile: us1.token\n',
        ),
      ),
    ).toMatch(/twice\.yaml:5: clusters\[1\]\.name eu1 is listed twice$/);
    expect(
      failureOf(
        clustersFile(
          'no-token.yaml',
          'clusters:\n  - name: eu1\n    url: https://a.example.com\n    tokenFile: gone.token\n',
        ),
      ),
    ).toMatch(/no-token\.yaml:4: clusters\[0\]\.tokenFile names a file that cannot be read: .*gone\.token \(ENOENT\)$/);
    expect(failureOf(clustersFile('syntax.yaml', 'clusters:\n  - name: [eu1\n'))).toMatch(
      /syntax\.yaml:\d+: is not valid YAML/,
    );
    expect(failureOf(path.join(dir, 'missing.yaml'))).toMatch(/missing\.yaml: cannot be read \(ENOENT\)$/);
  });
});
