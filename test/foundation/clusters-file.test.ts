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

  it('refuses a YAML alias bomb, an alias that contains itself and one without its anchor in one line naming the file', () => {
    const cluster = '  - name: eu1\n    url: https://a.example.com\n    tokenFile: eu1.token\n';
    const laughs = ['lols:', '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [prev, next] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh', 'hi']) {
      laughs.push(`  ${next}: &${next} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const limit = 'uses YAML aliases beyond the limit of 100 (an alias bomb?): write the repeated values out';
    const bomb = clustersFile('bomb.yaml', `${laughs.join('\n')}\nclusters:\n${cluster}`);
    expect(failureOf(bomb)).toBe(`Invalid configuration: AUTOPILOT_CLUSTERS_FILE ${bomb}:3: ${limit}`);
    // Each alias expands once, but the library looks each one up among all anchors and aliases: without
    // a limit on their number, these few hundred kilobytes would keep the worker's start busy for minutes.
    const many = Array.from({ length: 3000 }, (_, i) => `  - [&b${i} x, &a${i} [*b${i}], *a${i}]`).join('\n');
    const crowded = clustersFile('many.yaml', `clusters:\n${cluster}notes:\n${many}\n`);
    expect(failureOf(crowded)).toBe(`Invalid configuration: AUTOPILOT_CLUSTERS_FILE ${crowded}:6: ${limit}`);
    expect(failureOf(clustersFile('loop.yaml', `clusters: &c\n${cluster}  - *c\n`))).toMatch(
      /loop\.yaml:5: the YAML alias \*c sits inside the anchor it names$/,
    );
    expect(failureOf(clustersFile('dangling.yaml', `clusters:\n${cluster}    caFile: *ca\n`))).toMatch(
      /dangling\.yaml:5: the YAML alias \*ca names no anchor before it$/,
    );
  });

  it('reads a large clusters file that shares values through anchors', () => {
    const clusters = Array.from({ length: 2000 }, (_, i) =>
      i === 0
        ? '  - { name: c0, url: https://c0.example.com, tokenFile: &token eu1.token, maxConcurrentRequests: &cap 80 }'
        : `  - { name: c${i}, url: https://c${i}.example.com, tokenFile: ${i < 50 ? '*token' : 'eu1.token'}${i < 50 ? ', maxConcurrentRequests: *cap' : ''} }`,
    );
    const endpoints = clusterEndpoints(configWith(clustersFile('large.yaml', `clusters:\n${clusters.join('\n')}\n`)));
    expect(endpoints).toHaveLength(2000);
    expect(
      endpoints
        .slice(0, 50)
        .every((e) => e.maxConcurrentRequests === 80 && e.token.reveal() === 'dt0c01.EU1TOKEN.secret'),
    ).toBe(true);
    expect(endpoints[1999]).toMatchObject({ name: 'c1999', maxConcurrentRequests: 50 });
  });
});
