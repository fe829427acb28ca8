import { z } from 'zod';
import { DynatraceApiError, DynatraceFailureType } from './errors.js';
import type { DynatraceHttp, EnvironmentLocation } from './http-client.js';
import { paginateV1Body, paginateV1Header, paginateV2 } from './pagination.js';

const tagSchema = z.object({ context: z.string().optional(), key: z.string(), value: z.string().optional() });

export const entitySchema = z.object({
  entityId: z.string(),
  type: z.string(),
  displayName: z.string(),
  firstSeenTms: z.number().optional(),
  lastSeenTms: z.number().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  tags: z.array(tagSchema).optional(),
});
export type Entity = z.infer<typeof entitySchema>;

const entityListSchema = z.object({ entities: z.array(entitySchema), nextPageKey: z.string().nullish() });

export const hostV1Schema = z.object({
  entityId: z.string(),
  displayName: z.string(),
  discoveredName: z.string().optional(),
  lastSeenTimestamp: z.number().optional(),
  cloudType: z.string().optional(),
  awsInstanceId: z.string().optional(),
  awsInstanceType: z.string().optional(),
  hostGroup: z.object({ meId: z.string().optional(), name: z.string() }).optional(),
  tags: z.array(tagSchema).optional(),
});
export type HostV1 = z.infer<typeof hostV1Schema>;

const agentVersionSchema = z.object({ major: z.number(), minor: z.number(), revision: z.number() });

const oneAgentSchema = z.object({
  hostInfo: hostV1Schema,
  availabilityState: z.string().optional(),
  agentVersion: agentVersionSchema.nullish(),
});
export type OneAgentHost = z.infer<typeof oneAgentSchema>;
const oneAgentsSchema = z.object({ hosts: z.array(oneAgentSchema), nextPageKey: z.string().nullish() });

/** Monitored entities v2, hosts v1 and OneAgents v1 of one environment (reference §5). */
export class EntitiesApi {
  constructor(
    private readonly http: DynatraceHttp,
    private readonly environment: EnvironmentLocation,
    private readonly token: string,
  ) {}

  private path(suffix: string) {
    return `${this.environment.apiRoot}${suffix}`;
  }

  /** `from` defaults to now-3d on the server: a host is only found if it was seen in the window. */
  list(options: {
    entitySelector: string;
    fields?: string;
    from?: string;
    to?: string;
    pageSize?: number;
  }): AsyncGenerator<Entity> {
    return paginateV2(
      this.http,
      {
        path: this.path('/v2/entities'),
        token: this.token,
        pool: this.environment.id,
        query: {
          entitySelector: options.entitySelector,
          fields: options.fields,
          from: options.from,
          to: options.to,
          pageSize: options.pageSize,
        },
      },
      entityListSchema,
      (page) => page.entities,
    );
  }

  async get(entityId: string): Promise<Entity | undefined> {
    return this.getOptional(this.path(`/v2/entities/${encodeURIComponent(entityId)}`), entitySchema);
  }

  /** Deprecated, but the one API where `awsInstanceId` is documented for sure (§5.2). */
  async hostV1(hostId: string): Promise<HostV1 | undefined> {
    return this.getOptional(this.path(`/v1/entity/infrastructure/hosts/${encodeURIComponent(hostId)}`), hostV1Schema);
  }

  listHostsV1(options: { hostGroupName?: string; pageSize?: number } = {}): AsyncGenerator<HostV1> {
    return paginateV1Header(
      this.http,
      {
        path: this.path('/v1/entity/infrastructure/hosts'),
        token: this.token,
        pool: this.environment.id,
        query: { hostGroupName: options.hostGroupName, pageSize: options.pageSize ?? 500, includeDetails: true },
      },
      z.array(hostV1Schema),
      (page) => page,
    );
  }

  listOneAgents(options: { hostGroupName?: string; pageSize?: number } = {}): AsyncGenerator<OneAgentHost> {
    return paginateV1Body(
      this.http,
      {
        path: this.path('/v1/oneagents'),
        token: this.token,
        pool: this.environment.id,
        query: { hostGroupName: options.hostGroupName, pageSize: options.pageSize },
      },
      oneAgentsSchema,
      (page) => page.hosts,
    );
  }

  private async getOptional<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S> | undefined> {
    try {
      const response = await this.http.send({ method: 'GET', path, token: this.token, pool: this.environment.id });
      return this.http.parse(schema, response.body, { method: 'GET', path });
    } catch (err) {
      if (err instanceof DynatraceApiError && err.type === DynatraceFailureType.notFound) return undefined;
      throw err;
    }
  }
}
