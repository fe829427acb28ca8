import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { badRequest, json, notFound, violation } from '../http.js';
import { pageSize as pageSizeParam, parseTimestamp, resolveV2Page, slicePage } from '../pagination.js';
import { problemV1, problemV2 } from '../problems.js';
import { environmentOf, type Handler, type Router } from '../router.js';
import type { SimulatorServices } from '../services.js';
import { ALERTING_PROFILE_SCHEMA, profileDelayMinutes } from '../notifications.js';
import type { EnvironmentRecord, ProblemRecord } from '../state.js';
import { validateBody } from '../validation.js';

const FIELD_GROUPS = ['evidenceDetails', 'impactAnalysis', 'recentComments'];

function parseProblemFields(value: string | undefined): Set<string> {
  const fields = new Set<string>();
  for (const f of (value ?? '')
    .split(',')
    .map((s) => s.trim().replace(/^\+/, ''))
    .filter(Boolean)) {
    if (!FIELD_GROUPS.includes(f)) {
      throw badRequest(`Unknown field ${f}`, [
        violation('fields', `must be one of ${FIELD_GROUPS.join(', ')}`, 'QUERY'),
      ]);
    }
    fields.add(f);
  }
  return fields;
}

/** Alerting profiles whose rules match the problem: the v2 `problemFilters` field. */
function matchingFilters(environment: EnvironmentRecord, p: ProblemRecord) {
  return [...environment.settings.values()]
    .filter((o) => o.schemaId === ALERTING_PROFILE_SCHEMA && profileDelayMinutes(o, p) !== undefined)
    .map((o) => ({ id: o.objectId, name: String(o.value.name) }));
}

/** `status("open")`, `severityLevel("...")`, `impactLevel("...")`, `problemId("...")`, `displayId("...")`. */
function problemSelector(selector: string | undefined): (p: ProblemRecord) => boolean {
  if (!selector) return () => true;
  const criteria = [...selector.matchAll(/(\w+)\(([^)]*)\)/g)].map(([, name, args]) => ({
    name: name!,
    values: [...(args ?? '').matchAll(/"([^"]*)"|([^,\s]+)/g)].map((m) => (m[1] ?? m[2]!).toUpperCase()),
  }));
  return (p) =>
    criteria.every(({ name, values }) => {
      switch (name) {
        case 'status':
          return values.includes(p.status);
        case 'severityLevel':
          return values.includes(p.severityLevel);
        case 'impactLevel':
          return values.includes(p.impactLevel);
        case 'problemId':
          return values.includes(p.problemId.toUpperCase());
        case 'displayId':
          return values.includes(p.displayId.toUpperCase());
        default:
          throw badRequest(`Unsupported problemSelector criterion ${name}`, [
            violation('problemSelector', 'unsupported', 'QUERY'),
          ]);
      }
    });
}

export function registerProblemRoutes(router: Router, svc: SimulatorServices): void {
  const { stats } = svc;
  const env = (method: string, pattern: string, scopes: string[], handler: Handler) =>
    router.add({ method, pattern, area: 'environment', scopes, handler });

  const findProblem = (environment: EnvironmentRecord, id: string) => {
    const problem = environment.problems.get(id);
    if (!problem) throw notFound(`Problem ${id} not found`);
    return problem;
  };

  env('GET', '/api/v2/problems', ['problems.read'], (ctx) => {
    const environment = environmentOf(ctx);
    // `fields` holds for this page only: a request with nextPageKey must send it again (§13).
    const { params, keyParams, offset } = resolveV2Page(ctx.query, { perPage: ['fields'] });
    const size = pageSizeParam(params.pageSize, 50, 1, 500);
    const now = Date.now();
    const from = parseTimestamp(params.from, now - 2 * 3_600_000, 'from');
    const to = parseTimestamp(params.to, now, 'to');
    const fields = parseProblemFields(params.fields);
    const bySelector = problemSelector(params.problemSelector);
    const entityIds = params.entitySelector
      ? [...params.entitySelector.matchAll(/"(HOST-[0-9A-F]+)"/g)].map((m) => m[1])
      : undefined;
    const problems = [...environment.problems.values()]
      .filter((p) => p.startTime <= to && (p.endTime === -1 || p.endTime >= from))
      .filter(bySelector)
      .filter((p) => !entityIds || entityIds.includes(p.entityId))
      .sort((a, b) => b.startTime - a.startTime);
    const page = slicePage(problems, keyParams, offset, size);
    return json(200, {
      totalCount: problems.length,
      pageSize: size,
      nextPageKey: page.nextPageKey,
      problems: page.items.map((p) => problemV2(environment, p, fields, matchingFilters(environment, p))),
    });
  });

  env('GET', '/api/v2/problems/{problemId}', ['problems.read'], (ctx) => {
    const environment = environmentOf(ctx);
    const problem = findProblem(environment, ctx.params.problemId!);
    const fields = parseProblemFields(ctx.query.get('fields') ?? undefined);
    return json(200, problemV2(environment, problem, fields, matchingFilters(environment, problem)));
  });

  env('GET', '/api/v2/problems/{problemId}/comments', ['problems.read'], (ctx) => {
    const environment = environmentOf(ctx);
    const { params, offset } = resolveV2Page(ctx.query);
    const problem = findProblem(environment, ctx.params.problemId!);
    const size = pageSizeParam(params.pageSize, 10, 1, 500);
    const comments = [...problem.comments].reverse();
    const page = slicePage(comments, params, offset, size);
    return json(200, {
      comments: page.items.map((c) => ({ ...c })),
      totalCount: comments.length,
      pageSize: size,
      nextPageKey: page.nextPageKey,
    });
  });

  env('POST', '/api/v2/problems/{problemId}/comments', ['problems.write'], (ctx) => {
    const environment = environmentOf(ctx);
    const problem = findProblem(environment, ctx.params.problemId!);
    const body = validateBody(
      z.object({ message: z.string().min(1, 'must not be empty'), context: z.string().nullish() }),
      ctx.body(),
    );
    problem.comments.push({
      id: randomUUID(),
      content: body.message,
      authorName: ctx.principal,
      context: body.context ?? null,
      createdAtTimestamp: Date.now(),
    });
    stats.create('comments', environment.id);
    svc.changed();
    return { status: 201 };
  });

  env('GET', '/api/v1/problem/details/{problemId}', ['DataExport'], (ctx) => {
    const environment = environmentOf(ctx);
    return json(200, { result: problemV1(environment, findProblem(environment, ctx.params.problemId!)) });
  });

  env('POST', '/api/v1/problem/details/{problemId}/comments', ['DataExport'], (ctx) => {
    const environment = environmentOf(ctx);
    const problem = findProblem(environment, ctx.params.problemId!);
    const body = validateBody(
      z.object({
        comment: z.string().min(1, 'must not be empty'),
        user: z.string().min(1, 'must not be empty'),
        context: z.string().nullish(),
      }),
      ctx.body(),
    );
    const comment = {
      id: randomUUID(),
      content: body.comment,
      authorName: body.user,
      context: body.context ?? null,
      createdAtTimestamp: Date.now(),
    };
    problem.comments.push(comment);
    stats.create('comments', environment.id);
    svc.changed();
    return json(200, {
      id: comment.id,
      content: comment.content,
      userName: comment.authorName,
      context: comment.context,
      createdAtTimestamp: comment.createdAtTimestamp,
    });
  });
}
