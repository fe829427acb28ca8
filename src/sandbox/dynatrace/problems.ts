import type { EnvironmentRecord, HostEntity, ProblemRecord } from './state.js';
import { hostDisplayName } from './entity-selector.js';

/** Problem kinds the simulator can raise on a host, with their v2/v1 event names (reference §6.5). */
export const PROBLEM_KINDS = {
  CPU_SATURATION: {
    title: 'CPU saturation',
    eventTypeV2: 'OSI_HIGH_CPU',
    eventTypeV1: 'CPU_SATURATED',
    severityLevel: 'RESOURCE_CONTENTION',
  },
  MEMORY_SATURATION: {
    title: 'Memory saturation',
    eventTypeV2: 'OSI_HIGH_MEMORY',
    eventTypeV1: 'MEMORY_SATURATED',
    severityLevel: 'RESOURCE_CONTENTION',
  },
  HOST_UNAVAILABLE: {
    title: 'Host or monitoring unavailable',
    eventTypeV2: 'OSI_UNEXPECTEDLY_UNAVAILABLE',
    eventTypeV1: 'HOST_OF_SERVICE_UNAVAILABLE',
    severityLevel: 'AVAILABILITY',
  },
  EC2_HIGH_CPU: {
    title: 'EC2 CPU saturation',
    eventTypeV2: 'EC2_HIGH_CPU',
    eventTypeV1: 'EC2_HIGH_CPU',
    severityLevel: 'RESOURCE_CONTENTION',
  },
} as const;

export type ProblemKind = keyof typeof PROBLEM_KINDS;

function entityStub(p: ProblemRecord) {
  return { entityId: { id: p.entityId, type: p.entityType }, name: p.entityName };
}

function hostTags(host: HostEntity | undefined) {
  return (host?.tags ?? []).map((t) => ({
    context: t.context,
    key: t.key,
    ...(t.value !== undefined ? { value: t.value } : {}),
    stringRepresentation: `${t.context === 'CONTEXTLESS' ? '' : `[${t.context}]`}${t.key}${t.value !== undefined ? `:${t.value}` : ''}`,
  }));
}

function comment(c: ProblemRecord['comments'][number]) {
  return {
    id: c.id,
    content: c.content,
    authorName: c.authorName,
    context: c.context,
    createdAtTimestamp: c.createdAtTimestamp,
  };
}

/** `GET /api/v2/problems/{id}`: the v2 Problem shape, with the optional field groups on request. */
export function problemV2(
  environment: EnvironmentRecord,
  p: ProblemRecord,
  fields: Set<string>,
  filters: { id: string; name: string }[],
) {
  const host = environment.hosts.get(p.entityId);
  const stub = entityStub(p);
  return {
    problemId: p.problemId,
    displayId: p.displayId,
    title: p.title,
    impactLevel: p.impactLevel,
    severityLevel: p.severityLevel,
    status: p.status,
    affectedEntities: p.status === 'OPEN' ? [stub] : [],
    impactedEntities: [stub],
    rootCauseEntity: stub,
    managementZones: [],
    entityTags: hostTags(host),
    problemFilters: filters,
    startTime: p.startTime,
    endTime: p.endTime,
    ...(fields.has('evidenceDetails')
      ? {
          evidenceDetails: {
            totalCount: 1,
            details: [
              {
                evidenceType: 'EVENT',
                displayName: p.title,
                entity: stub,
                groupingEntity: stub,
                rootCauseRelevant: true,
                startTime: p.startTime,
                eventId: `${p.startTime}_${p.problemId.replace(/^-/, '')}`,
                eventType: p.eventTypeV2,
                endTime: p.endTime,
                data: {
                  eventId: `${p.startTime}_${p.problemId.replace(/^-/, '')}`,
                  eventType: p.eventTypeV2,
                  title: p.title,
                  status: p.status,
                  entityId: stub,
                  startTime: p.startTime,
                  endTime: p.endTime,
                  properties: [
                    { key: 'dt.event.description', value: `${p.title} on ${p.entityName}` },
                    ...(p.cpuLoad !== undefined ? [{ key: 'dt.event.cpu_load', value: String(p.cpuLoad) }] : []),
                  ],
                },
              },
            ],
          },
        }
      : {}),
    ...(fields.has('impactAnalysis')
      ? {
          impactAnalysis: {
            impacts: [{ impactType: 'INFRASTRUCTURE', impactedEntity: stub, estimatedAffectedUsers: 0 }],
          },
        }
      : {}),
    ...(fields.has('recentComments')
      ? {
          recentComments: {
            comments: p.comments.slice(-5).reverse().map(comment),
            totalCount: p.comments.length,
            pageSize: 5,
            nextPageKey: null,
          },
        }
      : {}),
  };
}

/** The v1 Problem shape, used by `/api/v1/problem/details` and the `{ProblemDetailsJSON}` placeholder. */
export function problemV1(environment: EnvironmentRecord, p: ProblemRecord) {
  const host = environment.hosts.get(p.entityId);
  const impact = p.impactLevel === 'SERVICES' ? 'SERVICE' : p.impactLevel;
  const counts = { APPLICATION: 0, ENVIRONMENT: 0, INFRASTRUCTURE: 0, SERVICE: 0 };
  return {
    id: p.problemId,
    displayName: p.displayId,
    status: p.status,
    impactLevel: impact,
    severityLevel: p.severityLevel,
    startTime: p.startTime,
    endTime: p.endTime,
    hasRootCause: true,
    commentCount: p.comments.length,
    rankedEvents: [
      {
        eventType: p.eventTypeV1,
        entityId: p.entityId,
        entityName: p.entityName,
        status: p.status,
        isRootCause: true,
        severityLevel: p.severityLevel,
        impactLevel: impact,
        startTime: p.startTime,
        endTime: p.endTime,
        severities: [],
        ...(p.cpuLoad !== undefined ? { cpuLoad: p.cpuLoad } : {}),
      },
    ],
    rankedImpacts: [
      {
        eventType: p.eventTypeV1,
        entityId: p.entityId,
        entityName: p.entityName,
        severityLevel: p.severityLevel,
        impactLevel: impact,
      },
    ],
    affectedCounts: { ...counts, [impact]: p.status === 'OPEN' ? 1 : 0 },
    recoveredCounts: { ...counts, [impact]: p.status === 'CLOSED' ? 1 : 0 },
    tagsOfAffectedEntities: (host?.tags ?? []).map((t) => ({
      context: t.context,
      key: t.key,
      ...(t.value !== undefined ? { value: t.value } : {}),
    })),
  };
}

export function newProblem(
  ids: { problemId: string; displayId: string },
  kind: ProblemKind,
  host: HostEntity,
  startTime: number,
  cpuLoad?: number,
): ProblemRecord {
  const k = PROBLEM_KINDS[kind];
  return {
    ...ids,
    kind,
    title: k.title,
    eventTypeV2: k.eventTypeV2,
    eventTypeV1: k.eventTypeV1,
    severityLevel: k.severityLevel,
    impactLevel: 'INFRASTRUCTURE',
    status: 'OPEN',
    startTime,
    endTime: -1,
    entityId: host.entityId,
    entityName: hostDisplayName(host),
    entityType: 'HOST',
    ...(kind === 'CPU_SATURATION' || kind === 'EC2_HIGH_CPU' ? { cpuLoad: cpuLoad ?? 98.7 } : {}),
    comments: [],
    notifiedOpen: [],
  };
}
