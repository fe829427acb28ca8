import { z } from 'zod';
import type { DynatraceHttp, EnvironmentLocation } from './http-client.js';
import { paginateV2 } from './pagination.js';

const entityStub = z.object({
  entityId: z.object({ id: z.string(), type: z.string() }),
  name: z.string().optional(),
});

const evidenceSchema = z.object({
  evidenceType: z.string(),
  displayName: z.string().optional(),
  entity: entityStub.optional(),
  eventType: z.string().optional(),
  startTime: z.number().optional(),
});

const commentSchema = z.object({
  id: z.string(),
  content: z.string(),
  authorName: z.string().optional(),
  context: z.string().nullish(),
  createdAtTimestamp: z.number().optional(),
});
export type ProblemComment = z.infer<typeof commentSchema>;

export const problemSchema = z.object({
  problemId: z.string(),
  displayId: z.string(),
  title: z.string(),
  status: z.enum(['OPEN', 'CLOSED']),
  severityLevel: z.string(),
  impactLevel: z.string(),
  startTime: z.number(),
  endTime: z.number(),
  affectedEntities: z.array(entityStub).default([]),
  impactedEntities: z.array(entityStub).default([]),
  rootCauseEntity: entityStub.nullish(),
  evidenceDetails: z.object({ totalCount: z.number().optional(), details: z.array(evidenceSchema) }).optional(),
  recentComments: z.object({ comments: z.array(commentSchema) }).optional(),
});
export type Problem = z.infer<typeof problemSchema>;

export const problemV1Schema = z.object({
  id: z.string(),
  displayName: z.string(),
  status: z.string(),
  severityLevel: z.string().optional(),
  rankedEvents: z
    .array(z.object({ eventType: z.string(), entityId: z.string(), entityName: z.string().optional() }))
    .default([]),
});
export type ProblemV1 = z.infer<typeof problemV1Schema>;

const problemListSchema = z.object({ problems: z.array(problemSchema), nextPageKey: z.string().nullish() });
const commentListSchema = z.object({ comments: z.array(commentSchema), nextPageKey: z.string().nullish() });

/** Problems v2 and v1 with their comments (reference §6.4, §7). Problem ids may start with "-". */
export class ProblemsApi {
  constructor(
    private readonly http: DynatraceHttp,
    private readonly environment: EnvironmentLocation,
    private readonly token: string,
  ) {}

  private path(suffix: string) {
    return `${this.environment.apiRoot}${suffix}`;
  }

  async get(
    problemId: string,
    fields: ('evidenceDetails' | 'impactAnalysis' | 'recentComments')[] = [],
  ): Promise<Problem> {
    const path = this.path(`/v2/problems/${encodeURIComponent(problemId)}`);
    const response = await this.http.send({
      method: 'GET',
      path,
      token: this.token,
      pool: this.environment.id,
      query: { fields: fields.length ? fields.join(',') : undefined },
    });
    return this.http.parse(problemSchema, response.body, { method: 'GET', path });
  }

  async getV1(problemId: string): Promise<ProblemV1> {
    const path = this.path(`/v1/problem/details/${encodeURIComponent(problemId)}`);
    const response = await this.http.send({ method: 'GET', path, token: this.token, pool: this.environment.id });
    return this.http.parse(z.object({ result: problemV1Schema }), response.body, { method: 'GET', path }).result;
  }

  list(
    options: {
      problemSelector?: string;
      entitySelector?: string;
      from?: string;
      fields?: string;
      pageSize?: number;
    } = {},
  ): AsyncGenerator<Problem> {
    const { pageSize, ...query } = options;
    return paginateV2(
      this.http,
      {
        path: this.path('/v2/problems'),
        token: this.token,
        pool: this.environment.id,
        query: { ...query, pageSize: pageSize ?? 500 },
      },
      problemListSchema,
      (page) => page.problems,
      // `fields` is valid for one page only; without it page 2 on comes without evidence (§13).
      { repeatWithPageKey: ['fields'] },
    );
  }

  comments(problemId: string, options: { pageSize?: number } = {}): AsyncGenerator<ProblemComment> {
    return paginateV2(
      this.http,
      {
        path: this.path(`/v2/problems/${encodeURIComponent(problemId)}/comments`),
        token: this.token,
        pool: this.environment.id,
        query: { pageSize: options.pageSize ?? 500 },
      },
      commentListSchema,
      (page) => page.comments,
    );
  }

  /** 201 with no body and so no id: dedupe by a marker in `context` and a prior read (§7). */
  async addComment(problemId: string, comment: { message: string; context?: string }): Promise<void> {
    await this.http.send({
      method: 'POST',
      path: this.path(`/v2/problems/${encodeURIComponent(problemId)}/comments`),
      token: this.token,
      pool: this.environment.id,
      json: comment,
      ok: [201, 204],
    });
  }

  async addCommentV1(
    problemId: string,
    comment: { comment: string; user: string; context?: string },
  ): Promise<ProblemComment> {
    const path = this.path(`/v1/problem/details/${encodeURIComponent(problemId)}/comments`);
    const response = await this.http.send({
      method: 'POST',
      path,
      token: this.token,
      pool: this.environment.id,
      json: comment,
    });
    const body = this.http.parse(
      z.object({ id: z.string(), content: z.string(), userName: z.string().optional(), context: z.string().nullish() }),
      response.body,
      { method: 'POST', path },
    );
    return { id: body.id, content: body.content, authorName: body.userName, context: body.context };
  }
}
