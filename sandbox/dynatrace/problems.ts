import type { EnvironmentRecord, HostEntity, ProblemRecord } from './state.js';
import { hostDisplayName } from './entity-selector.js';

/**
 * Problem kinds the simulator can raise on a host. Real v2 evidence carries the classic event names
 * (`CPU_SATURATED`), alerting profiles filter by the `OSI_*` names (reference §6.5, §13).
 */
export const PROBLEM_KINDS = {
  CPU_SATURATION: {
    title: 'CPU saturation',
    evidenceEventType: 'CPU_SATURATED',
    alertingEventType: 'OSI_HIGH_CPU',
    eventTypeV1: 'CPU_SATURATED',
    severityLevel: 'RESOURCE_CONTENTION',
  },
  MEMORY_SATURATION: {
    title: 'Memory saturation',
    evidenceEventType: 'MEMORY_SATURATED',
    alertingEventType: 'OSI_HIGH_MEMORY',
    eventTypeV1: 'MEMORY_SATURATED',
    severityLevel: 'RESOURCE_CONTENTION',
  },
  HOST_UNAVAILABLE: {
    title: 'Host or monitoring unavailable',
    evidenceEventType: 'HOST_OF_SERVICE_UNAVAILABLE',
    alertingEventType: 'OSI_UNEXPECTEDLY_UNAVAILABLE',
    eventTypeV1: 'HOST_OF_SERVICE_UNAVAILABLE',
    severityLevel: 'AVAILABILITY',
  },
  EC2_HIGH_CPU: {
    title: 'EC2 CPU saturation',
    evidenceEventType: 'EC2_HIGH_CPU',
    alertingEventType: 'EC2_HIGH_CPU',
    eventTypeV1: 'EC2_HIGH_CPU',
    severityLevel: 'RESOURCE_CONTENTION',
  },
  /** Not on a host at all: a synthetic monitor (reference §6.3, the real RESOLVED notification). */
  SYNTHETIC_OUTAGE: {
    title: 'Browser monitor global outage',
    evidenceEventType: 'WEB_CHECK_GLOBAL_OUTAGE',
    alertingEventType: 'SYNTHETIC_GLOBAL_OUTAGE',
    eventTypeV1: 'WEB_CHECK_GLOBAL_OUTAGE',
    severityLevel: 'AVAILABILITY',
  },
} as const;

/** The entity a problem's event is on: a host, or a synthetic monitor. */
export interface ProblemSubject {
  entityId: string;
  entityName: string;
  entityType: 'HOST' | 'SYNTHETIC_TEST';
}

export function hostSubject(host: HostEntity): ProblemSubject {
  return { entityId: host.entityId, entityName: hostDisplayName(host), entityType: 'HOST' };
}

export type ProblemKind = keyof typeof PROBLEM_KINDS;

function hostStub(p: ProblemRecord) {
  return { entityId: { id: p.entityId, type: p.entityType }, name: p.entityName };
}

function impactedStub(p: ProblemRecord) {
  return p.impacted
    ? { entityId: { id: p.impacted.entityId, type: p.impacted.type }, name: p.impacted.name }
    : hostStub(p);
}

/** Which entities a problem names where: the host alone, or a service/application with the host behind it. */
export function problemEntities(p: ProblemRecord) {
  const host = hostStub(p);
  if (!p.impacted) return { impacted: [host], affected: [host], rootCause: host as typeof host | null };
  const impacted = impactedStub(p);
  return p.hostRole === 'affected'
    ? { impacted: [impacted], affected: [impacted, host], rootCause: null }
    : { impacted: [impacted], affected: [impacted], rootCause: host };
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
  const stub = hostStub(p);
  const entities = problemEntities(p);
  return {
    problemId: p.problemId,
    displayId: p.displayId,
    title: p.title,
    impactLevel: p.impactLevel,
    severityLevel: p.severityLevel,
    status: p.status,
    affectedEntities: p.status === 'OPEN' ? entities.affected : [],
    impactedEntities: entities.impacted,
    rootCauseEntity: entities.rootCause,
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
                displayName: PROBLEM_KINDS[p.kind as ProblemKind]?.title ?? p.title,
                entity: stub,
                groupingEntity: stub,
                rootCauseRelevant: entities.rootCause !== null,
                startTime: p.startTime,
                eventId: `${p.startTime}_${p.problemId.replace(/^-/, '')}`,
                eventType: p.evidenceEventType,
                endTime: p.endTime,
                data: {
                  eventId: `${p.startTime}_${p.problemId.replace(/^-/, '')}`,
                  eventType: p.evidenceEventType,
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
            impacts: entities.impacted.map((impactedEntity) => ({
              impactType: p.impacted ? p.impactLevel : 'INFRASTRUCTURE',
              impactedEntity,
              estimatedAffectedUsers: 0,
            })),
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
    hasRootCause: p.hostRole !== 'affected',
    commentCount: p.comments.length,
    rankedEvents: [
      {
        eventType: p.eventTypeV1,
        entityId: p.entityId,
        entityName: p.entityName,
        status: p.status,
        isRootCause: p.hostRole !== 'affected',
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
        entityId: p.impacted?.entityId ?? p.entityId,
        entityName: p.impacted?.name ?? p.entityName,
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

export interface NewProblemOptions {
  cpuLoad?: number;
  /** `osi`: evidence named like the alerting filters (`OSI_HIGH_CPU`), as some builds report it [U]. */
  evidence?: 'classic' | 'osi';
  /** A service or application on the host is what the problem impacts; the host stays behind it. */
  impacted?: { type: 'SERVICE' | 'APPLICATION'; name: string; entityId: string };
  hostRole?: 'root-cause' | 'affected';
}

export function newProblem(
  ids: { problemId: string; displayId: string },
  kind: ProblemKind,
  subject: ProblemSubject,
  startTime: number,
  options: NewProblemOptions = {},
): ProblemRecord {
  const k = PROBLEM_KINDS[kind];
  return {
    ...ids,
    kind,
    title: k.title,
    evidenceEventType: options.evidence === 'osi' ? k.alertingEventType : k.evidenceEventType,
    alertingEventType: k.alertingEventType,
    eventTypeV1: k.eventTypeV1,
    severityLevel: k.severityLevel,
    impactLevel: options.impacted
      ? options.impacted.type === 'SERVICE'
        ? 'SERVICES'
        : 'APPLICATION'
      : subject.entityType === 'HOST'
        ? 'INFRASTRUCTURE'
        : 'APPLICATION',
    status: 'OPEN',
    startTime,
    endTime: -1,
    ...subject,
    ...(options.impacted ? { impacted: options.impacted, hostRole: options.hostRole ?? 'root-cause' } : {}),
    ...(kind === 'CPU_SATURATION' || kind === 'EC2_HIGH_CPU' ? { cpuLoad: options.cpuLoad ?? 98.7 } : {}),
    comments: [],
    notifiedOpen: [],
  };
}
