import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../helpers/simulator.js';

/**
 * The fake-server contract of ../shared/reference/dynatrace-api.md §10, row by row, over plain HTTP
 * (what the README's curl examples do): endpoint, scope checked, happy response.
 */
describe('reference §10 table over raw HTTP', () => {
  let dt: TestCluster;
  let cluster: string;
  let all: string;
  let noScope: string;
  let tmt: string;
  let problemId: string;
  let entityId: string;

  const call = async (
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(`${dt.simulator.url}${path}`, {
      method,
      headers: {
        ...(token ? { Authorization: `Api-Token ${token}` } : {}),
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: response.status, json: json as Record<string, unknown>, headers: response.headers, text };
  };

  beforeAll(async () => {
    dt = await startTestCluster();
    cluster = dt.clusterToken;
    const put = await call('PUT', '/api/cluster/v2/environments/abc-p1?createToken=true', cluster, { name: 'ABC' });
    tmt = put.json.tokenManagementToken as string;
    ({ token: all } = await dt.environment('xyz-p1'));
    const allInAbc = await call('POST', '/e/abc-p1/api/v2/apiTokens', tmt, {
      name: 'all',
      scopes: [
        'InstallerDownload',
        'DataExport',
        'entities.read',
        'problems.read',
        'problems.write',
        'settings.read',
        'settings.write',
      ],
    });
    all = allInAbc.json.token as string;
    noScope = (await call('POST', '/e/abc-p1/api/v2/apiTokens', tmt, { name: 'none', scopes: ['metrics.read'] })).json
      .token as string;
    entityId = (
      await dt.control<{ entityId: string }>('/environments/abc-p1/hosts', { hostName: 'vm-1', awsInstanceId: 'i-1' })
    ).entityId;
    problemId = (await dt.control<{ problemId: string }>('/problems', { environmentId: 'abc-p1', hostName: 'vm-1' }))
      .problemId;
  });
  afterAll(async () => {
    await dt.stop();
  });

  it('cluster API rows', async () => {
    expect(
      (await call('PUT', '/api/cluster/v2/environments/abc-p1?createToken=true', cluster, { name: 'ABC' })).status,
    ).toBe(204);
    const post = await call('POST', '/api/cluster/v2/environments?createToken=true', cluster, { name: 'uuid env' });
    expect(post.status).toBe(201);
    expect(post.headers.get('location')).toContain(String(post.json.id));
    expect((await call('POST', '/api/cluster/v2/environments', cluster, { name: 'x', id: 'x' })).status).toBe(400);
    expect((await call('GET', '/api/cluster/v2/environments', cluster)).json).toMatchObject({ totalCount: 3 });
    expect((await call('GET', '/api/cluster/v2/environments/abc-p1', cluster)).status).toBe(200);
    expect((await call('DELETE', `/api/cluster/v2/environments/${String(post.json.id)}`, cluster)).status).toBe(400);
    expect(
      (
        await call('PUT', `/api/cluster/v2/environments/${String(post.json.id)}`, cluster, {
          name: 'uuid env',
          state: 'DISABLED',
        })
      ).status,
    ).toBe(204);
    expect((await call('DELETE', `/api/cluster/v2/environments/${String(post.json.id)}`, cluster)).status).toBe(204);
    const tmtLater = await call('POST', '/api/cluster/v2/environments/abc-p1/tokenManagementToken', cluster, {
      name: 'Token Management',
      expiresIn: { value: 3600, unit: 'SECONDS' },
    });
    expect(tmtLater.status).toBe(201);
    expect(tmtLater.json.token).toMatch(/^dt0c01\./);
    const group = await call('POST', '/api/v1.0/onpremise/groups', cluster, {
      name: 'abc-admins',
      isClusterAdminGroup: false,
      accessRight: { MANAGE_SETTINGS: ['abc-p1'] },
    });
    expect(group.status).toBe(200);
    expect(
      (await call('POST', '/api/v1.0/onpremise/groups', cluster, { name: 'abc-admins', isClusterAdminGroup: false }))
        .status,
    ).toBe(406);
    expect((await call('GET', '/api/v1.0/onpremise/groups', cluster)).json).toHaveLength(1);
    expect((await call('GET', `/api/v1.0/onpremise/groups/${String(group.json.id)}`, cluster)).status).toBe(200);
    expect(
      (await call('PUT', '/api/v1.0/onpremise/groups', cluster, { ...group.json, ldapGroupNames: ['cn=x'] })).status,
    ).toBe(200);
    expect((await call('DELETE', `/api/v1.0/onpremise/groups/${String(group.json.id)}`, cluster)).status).toBe(200);
  });

  it('environment API rows', async () => {
    expect(
      (await call('POST', '/e/abc-p1/api/v2/apiTokens', tmt, { name: 'x', scopes: ['InstallerDownload'] })).status,
    ).toBe(201);
    expect(
      (await call('POST', '/e/abc-p1/api/v1/tokens', tmt, { name: 'v1', scopes: ['InstallerDownload'] })).status,
    ).toBe(201);
    const base = '/e/abc-p1/api/v1/deployment/installer/agent';
    const download = await call('GET', `${base}/unix/default/latest?arch=x86`, all);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/octet-stream');
    expect(download.text.startsWith('#!/bin/sh')).toBe(true);
    expect(
      (
        await call('GET', `${base}/unix/default/latest?arch=x86`, all, undefined, {
          'If-None-Match': download.headers.get('etag')!,
        })
      ).status,
    ).toBe(304);
    expect((await call('GET', `${base}/unix/default/latest/metainfo`, all)).json).toHaveProperty('latestAgentVersion');
    expect((await call('GET', `${base}/versions/unix/default`, all)).json).toHaveProperty('availableVersions');
    expect(Object.keys((await call('GET', `${base}/connectioninfo`, all)).json).sort()).toEqual([
      'communicationEndpoints',
      'formattedCommunicationEndpoints',
      'tenantToken',
      'tenantUUID',
    ]);
    expect(
      (await call('GET', `/e/abc-p1/api/v2/entities?entitySelector=${encodeURIComponent('type("HOST")')}`, all)).json,
    ).toMatchObject({ totalCount: 1 });
    expect((await call('GET', `/e/abc-p1/api/v2/entities/${entityId}`, all)).status).toBe(200);
    expect((await call('GET', `/e/abc-p1/api/v1/entity/infrastructure/hosts/${entityId}`, all)).json).toMatchObject({
      awsInstanceId: 'i-1',
    });
    const pid = encodeURIComponent(problemId);
    expect((await call('GET', `/e/abc-p1/api/v2/problems/${pid}?fields=evidenceDetails`, all)).status).toBe(200);
    expect((await call('GET', `/e/abc-p1/api/v1/problem/details/${pid}`, all)).json).toHaveProperty('result');
    const comment = await call('POST', `/e/abc-p1/api/v2/problems/${pid}/comments`, all, {
      message: 'hi',
      context: 'autopilot',
    });
    expect(comment.status).toBe(201);
    expect(comment.text).toBe('');
    expect(
      (await call('POST', `/e/abc-p1/api/v1/problem/details/${pid}/comments`, all, { comment: 'hi', user: 'me' }))
        .status,
    ).toBe(200);
    expect(
      (await call('GET', '/e/abc-p1/api/v2/settings/objects?schemaIds=builtin:alerting.profile', all)).json,
    ).toMatchObject({ totalCount: 1 });
    const created = await call('POST', '/e/abc-p1/api/v2/settings/objects', all, [
      { schemaId: 'builtin:alerting.profile', scope: 'environment', value: { name: 'p', severityRules: [] } },
    ]);
    expect(created.status).toBe(200);
    const objectId = (created.json as unknown as { objectId: string }[])[0]!.objectId;
    expect(
      (await call('PUT', `/e/abc-p1/api/v2/settings/objects/${objectId}`, all, { value: { name: 'q' } })).status,
    ).toBe(200);
    expect((await call('DELETE', `/e/abc-p1/api/v2/settings/objects/${objectId}`, all)).status).toBe(204);
  });

  it('any row: 401 bad token, 403 missing scope with the documented message, 404 unknown id', async () => {
    expect((await call('GET', '/api/cluster/v2/environments', undefined)).status).toBe(401);
    expect((await call('GET', '/api/cluster/v2/environments', 'dt0c01.WRONG')).status).toBe(401);
    const forbidden = await call('GET', `/e/abc-p1/api/v2/problems/${encodeURIComponent(problemId)}`, noScope);
    expect(forbidden.status).toBe(403);
    expect(forbidden.json).toEqual({
      error: {
        code: 403,
        message: 'Token is missing required scope. Use one of: problems.read (Read problems)',
        constraintViolations: null,
      },
    });
    expect((await call('GET', '/e/abc-p1/api/v2/entities/HOST-FFFFFFFFFFFFFFFF', all)).status).toBe(404);
  });
});
