import { createHash } from 'node:crypto';
import { z } from 'zod';
import { compareOneAgentVersions } from '../../../src/shared/oneagent-version.js';
import { badRequest, json, notFound } from '../http.js';
import { mergeKnobs } from '../knobs.js';
import { NOTIFICATION_SCHEMA, RECOMMENDED_PAYLOAD, webhookTarget, type WebhookTarget } from '../notifications.js';
import { hostSubject, newProblem, PROBLEM_KINDS, type ProblemKind } from '../problems.js';
import type { Handler, Router } from '../router.js';
import type { ProblemRecord } from '../state.js';
import type { SimulatorServices } from '../services.js';
import { CLUSTER_SCOPES } from '../tokens.js';
import { validateBody } from '../validation.js';

const target = z
  .object({
    url: z.string().url(),
    headers: z.record(z.string(), z.string()).default({}),
    payload: z.string().default(RECOMMENDED_PAYLOAD),
  })
  .optional();

function toTarget(t: z.infer<typeof target>): WebhookTarget | undefined {
  if (!t) return undefined;
  return {
    url: t.url,
    payload: t.payload,
    headers: Object.entries(t.headers).map(([name, value]) => ({ name, value })),
  };
}

/**
 * The simulator's own API, outside the Dynatrace namespace (`/_sim/...`): counts for tests and
 * benchmarks, knobs, and the things a real cluster does on its own (hosts, problems, notifications).
 */
export function registerControlRoutes(router: Router, svc: SimulatorServices, onKnobs: () => void): void {
  const { state, stats } = svc;
  const control = (method: string, pattern: string, handler: Handler) =>
    router.add({ method, pattern: `/_sim${pattern}`, area: 'control', scopes: [], handler });

  const findEnvironment = (id: string) => {
    const environment = state.environments.get(id);
    if (!environment) throw notFound(`Environment ${id} not found`);
    return environment;
  };

  control('GET', '/stats', () => {
    const environments = [...state.environments.values()];
    return json(200, {
      ...stats.snapshot(),
      totals: {
        environments: environments.length,
        groups: state.groups.size,
        hosts: environments.reduce((n, e) => n + e.hosts.size, 0),
        apiTokens: environments.reduce((n, e) => n + e.tokens.size, 0),
        problems: environments.reduce((n, e) => n + e.problems.size, 0),
      },
    });
  });

  control('POST', '/stats/reset', () => {
    stats.reset();
    return json(200, { reset: true });
  });

  control('GET', '/knobs', () => json(200, svc.knobs()));

  control('POST', '/knobs', (ctx) => {
    try {
      Object.assign(svc.knobs(), mergeKnobs(svc.knobs(), ctx.body()));
    } catch (err) {
      throw badRequest(`Invalid knobs: ${err instanceof Error ? err.message : String(err)}`);
    }
    onKnobs();
    return json(200, svc.knobs());
  });

  control('POST', '/cluster-tokens', (ctx) => {
    const body = validateBody(
      z.object({ name: z.string().default('sandbox'), scopes: z.array(z.enum(CLUSTER_SCOPES)).min(1) }),
      ctx.body(),
    );
    const token = state.createClusterToken(body.name, body.scopes);
    stats.create('clusterTokens');
    svc.changed();
    return json(201, { id: token.id, token: token.token, scopes: token.scopes });
  });

  // What an administrator does in the console: the token stops working, Autopilot is not told.
  control('POST', '/environments/{id}/tokens/{tokenId}/revoke', (ctx) => {
    const environment = findEnvironment(ctx.params.id!);
    if (!environment.tokens.has(ctx.params.tokenId!)) {
      return json(404, { error: { code: 404, message: `no token ${ctx.params.tokenId} in ${environment.id}` } });
    }
    state.revokeEnvironmentToken(environment, ctx.params.tokenId!);
    svc.changed();
    return json(200, { revoked: ctx.params.tokenId });
  });

  control('POST', '/environments/{id}/hosts', (ctx) => {
    const environment = findEnvironment(ctx.params.id!);
    const body = validateBody(
      z.object({
        hostName: z.string().min(1),
        hostGroup: z.string().optional(),
        tags: z
          .array(
            z.object({ context: z.string().default('CONTEXTLESS'), key: z.string(), value: z.string().optional() }),
          )
          .default([]),
        awsInstanceId: z.string().optional(),
        awsInstanceType: z.string().optional(),
        installerVersion: z.string().optional(),
        ipAddress: z.string().default('10.0.0.10'),
        properties: z.record(z.string(), z.string()).default({}),
      }),
      ctx.body(),
    );
    const entityId = state.hostEntityId(environment.id, body.hostName);
    const now = Date.now();
    environment.hosts.set(entityId, {
      entityId,
      hostName: body.hostName,
      detectedName: body.hostName,
      ...(body.hostGroup ? { hostGroup: body.hostGroup } : {}),
      tags: body.tags,
      properties: body.properties,
      installerVersion: body.installerVersion ?? state.installerVersions.at(-1)!,
      monitoringMode: 'FULL_STACK',
      osType: 'LINUX',
      ipAddresses: [body.ipAddress],
      ...(body.awsInstanceId ? { awsInstanceId: body.awsInstanceId } : {}),
      ...(body.awsInstanceType ? { awsInstanceType: body.awsInstanceType } : {}),
      firstSeenTms: now,
      lastSeenTms: now,
      state: 'RUNNING',
    });
    svc.changed();
    return json(201, { entityId });
  });

  control('POST', '/problems', (ctx) => {
    const body = validateBody(
      z.object({
        environmentId: z.string(),
        hostName: z.string().optional(),
        entityId: z.string().optional(),
        kind: z.enum(Object.keys(PROBLEM_KINDS) as [ProblemKind, ...ProblemKind[]]).default('CPU_SATURATION'),
        cpuLoad: z.number().optional(),
        evidence: z.enum(['classic', 'osi']).default('classic'),
        /** `service` / `application`: that is what the problem impacts, the host only stands behind it. */
        impact: z.enum(['host', 'service', 'application']).default('host'),
        impactedName: z.string().min(1).optional(),
        hostRole: z.enum(['root-cause', 'affected']).default('root-cause'),
        /** For SYNTHETIC_OUTAGE, which is on a synthetic monitor, not a host. */
        monitorName: z.string().min(1).default('Third Party Monitor'),
        notify: target,
      }),
      ctx.body(),
    );
    const environment = findEnvironment(body.environmentId);
    const startTime = Date.now();
    /** The problem exists from now on, and the environment's webhooks hear of it as a real one's would. */
    const open = (problem: ProblemRecord, extra: Record<string, string> = {}) => {
      environment.problems.set(problem.problemId, problem);
      stats.create('problems', environment.id);
      svc.notifications.problemOpened(environment, problem, toTarget(body.notify));
      svc.changed();
      return json(201, {
        problemId: problem.problemId,
        displayId: problem.displayId,
        entityId: problem.entityId,
        ...extra,
        title: problem.title,
      });
    };
    if (body.kind === 'SYNTHETIC_OUTAGE') {
      const subject = {
        entityId: relatedEntityId('SYNTHETIC_TEST', `${environment.id}:${body.monitorName}`),
        entityName: body.monitorName,
        entityType: 'SYNTHETIC_TEST' as const,
      };
      return open(newProblem(state.nextProblemIds(startTime), body.kind, subject, startTime));
    }
    const entityId = body.entityId ?? (body.hostName ? state.hostEntityId(environment.id, body.hostName) : undefined);
    const host = entityId ? environment.hosts.get(entityId) : undefined;
    if (!host) throw notFound(`No host ${body.hostName ?? body.entityId ?? ''} in ${environment.id}`);
    const impacted =
      body.impact === 'host'
        ? undefined
        : {
            type: body.impact === 'service' ? ('SERVICE' as const) : ('APPLICATION' as const),
            name: body.impactedName ?? `${host.hostName} ${body.impact}`,
            entityId: relatedEntityId(body.impact === 'service' ? 'SERVICE' : 'APPLICATION', host.entityId),
          };
    const problem = newProblem(state.nextProblemIds(startTime), body.kind, hostSubject(host), startTime, {
      ...(body.cpuLoad !== undefined ? { cpuLoad: body.cpuLoad } : {}),
      evidence: body.evidence,
      ...(impacted ? { impacted, hostRole: body.hostRole } : {}),
    });
    return open(problem, impacted ? { impactedEntityId: impacted.entityId } : {});
  });

  control('POST', '/problems/{problemId}/resolve', (ctx) => {
    const found = state.findProblem(ctx.params.problemId!);
    if (!found) throw notFound(`Problem ${ctx.params.problemId} not found`);
    const body = validateBody(
      z.object({ notify: target }).default({}),
      ctx.rawBody.length > 0 ? ctx.body() : undefined,
    );
    found.problem.status = 'CLOSED';
    found.problem.endTime = Date.now();
    svc.notifications.problemResolved(found.environment, found.problem, toTarget(body.notify));
    svc.changed();
    return json(200, { problemId: found.problem.problemId, status: 'CLOSED' });
  });

  control('POST', '/environments/{id}/test-notification', async (ctx) => {
    const environment = findEnvironment(ctx.params.id!);
    const body = validateBody(
      z.object({ notify: target }).default({}),
      ctx.rawBody.length > 0 ? ctx.body() : undefined,
    );
    const targets = body.notify
      ? [toTarget(body.notify)!]
      : [...environment.settings.values()]
          .filter((o) => o.schemaId === NOTIFICATION_SCHEMA)
          .map(webhookTarget)
          .filter((t): t is WebhookTarget => t !== undefined);
    if (targets.length === 0) throw badRequest(`Environment ${environment.id} has no webhook notification configured`);
    const results = await Promise.all(targets.map((t) => svc.notifications.sendTest(environment.id, t)));
    return json(200, { results: results.map((r, i) => ({ url: targets[i]!.url, ...r })) });
  });

  control('GET', '/installer-ca', () => {
    if (!state.signing) throw notFound('No installer has been signed yet');
    return { status: 200, raw: state.signing.certificatePem, contentType: 'application/x-pem-file' };
  });

  control('POST', '/installer-versions', (ctx) => {
    const body = validateBody(z.object({ version: z.string().regex(/^\d+\.\d+\.\d+\.\d{8}-\d{6}$/) }), ctx.body());
    if (!state.installerVersions.includes(body.version)) {
      state.installerVersions.push(body.version);
      state.installerVersions.sort(compareOneAgentVersions);
    }
    svc.changed();
    return json(200, { availableVersions: state.installerVersions });
  });
}

/** A stable entity id for the service, application or monitor a simulated problem names. */
function relatedEntityId(type: 'SERVICE' | 'APPLICATION' | 'SYNTHETIC_TEST', seed: string): string {
  return `${type}-${createHash('sha256').update(`${type}:${seed}`).digest('hex').slice(0, 16).toUpperCase()}`;
}
