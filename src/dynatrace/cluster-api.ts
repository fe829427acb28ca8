import { z } from 'zod';
import { DynatraceApiError, DynatraceFailureType } from './errors.js';
import { CLUSTER_POOL, type DynatraceHttp } from './http-client.js';
import { collect, paginateV2 } from './pagination.js';

export const environmentSchema = z.object({
  id: z.string(),
  name: z.string(),
  trial: z.boolean().optional(),
  state: z.enum(['ENABLED', 'DISABLED']).optional(),
  tags: z.array(z.string()).optional(),
  creationDate: z.string().optional(),
  quotas: z.record(z.string(), z.unknown()).optional(),
  storage: z.record(z.string(), z.unknown()).optional(),
});
export type Environment = z.infer<typeof environmentSchema>;

export interface EnvironmentInput {
  name: string;
  state?: 'ENABLED' | 'DISABLED';
  trial?: boolean;
  tags?: string[];
  /** Sent only when set: licences without a feature reject its quota (reference §1.4). */
  quotas?: Record<string, unknown>;
  storage?: Record<string, unknown>;
}

const createdSchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  tokenManagementToken: z.string().optional(),
});
const listSchema = z.object({
  environments: z.array(environmentSchema),
  totalCount: z.number().optional(),
  nextPageKey: z.string().nullish(),
});

/**
 * Account flags come in three spellings (reference §2 "version drift"): `isAccessAccount` /
 * `isManageAccount` (older clusters echo them; the 2022-24 spec makes them write-only), the
 * read-only `hasAccessAccountRole` / `hasManageAccountAndViewProductUsageRole`, and TF's
 * `accessAccount` / `manageAccount`. A read turns whichever came into the writable spelling, so an
 * update can send the flag back; one that no spelling reports stays undefined.
 */
export const groupSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    isClusterAdminGroup: z.boolean().optional(),
    isAccessAccount: z.boolean().optional(),
    isManageAccount: z.boolean().optional(),
    hasAccessAccountRole: z.boolean().optional(),
    hasManageAccountAndViewProductUsageRole: z.boolean().optional(),
    accessAccount: z.boolean().optional(),
    manageAccount: z.boolean().optional(),
    ldapGroupNames: z.array(z.string()).nullish(),
    ssoGroupNames: z.array(z.string()).nullish(),
    accessRight: z.record(z.string(), z.array(z.string())).nullish(),
  })
  .transform(
    ({
      isAccessAccount,
      isManageAccount,
      hasAccessAccountRole,
      hasManageAccountAndViewProductUsageRole,
      accessAccount,
      manageAccount,
      ...group
    }) => {
      const access = isAccessAccount ?? hasAccessAccountRole ?? accessAccount;
      const manage = isManageAccount ?? hasManageAccountAndViewProductUsageRole ?? manageAccount;
      return {
        ...group,
        ...(access === undefined ? {} : { isAccessAccount: access }),
        ...(manage === undefined ? {} : { isManageAccount: manage }),
      };
    },
  );
export type UserGroup = z.output<typeof groupSchema>;

export interface UserGroupInput {
  name: string;
  isClusterAdminGroup?: boolean;
  /** Only meaningful with DPS licences; write-only on newer clusters (§2). */
  isAccessAccount?: boolean;
  isManageAccount?: boolean;
  ldapGroupNames?: string[];
  ssoGroupNames?: string[];
  accessRight: Record<string, string[]>;
}

const enc = encodeURIComponent;

/** Cluster API v2 (environments) and v1 (user groups), with a cluster token (reference §1, §2). */
export class ClusterApi {
  constructor(
    private readonly http: DynatraceHttp,
    private readonly token: string,
  ) {}

  /**
   * PUT, never POST: the only call that keeps our ID (`abc-p1`) and is safe to retry. 201 means
   * created (with a token-management token when asked), 204 that it existed and was updated.
   */
  async putEnvironment(
    id: string,
    input: EnvironmentInput,
    options: { createToken?: boolean } = {},
  ): Promise<{ created: true; tokenManagementToken?: string } | { created: false }> {
    const path = `/api/cluster/v2/environments/${enc(id)}`;
    const response = await this.http.send({
      method: 'PUT',
      path,
      token: this.token,
      pool: CLUSTER_POOL,
      query: { createToken: options.createToken ? 'true' : undefined },
      json: input,
      ok: [201, 204],
    });
    if (response.status === 204) return { created: false };
    const body = this.http.parse(createdSchema, response.body, { method: 'PUT', path });
    return { created: true, ...(body.tokenManagementToken ? { tokenManagementToken: body.tokenManagementToken } : {}) };
  }

  async getEnvironment(id: string): Promise<Environment | undefined> {
    const path = `/api/cluster/v2/environments/${enc(id)}`;
    try {
      const response = await this.http.send({ method: 'GET', path, token: this.token, pool: CLUSTER_POOL });
      return this.http.parse(environmentSchema, response.body, { method: 'GET', path });
    } catch (err) {
      if (err instanceof DynatraceApiError && err.type === DynatraceFailureType.notFound) return undefined;
      throw err;
    }
  }

  listEnvironments(options: { filter?: string; sort?: string; pageSize?: number } = {}): AsyncGenerator<Environment> {
    return paginateV2(
      this.http,
      {
        path: '/api/cluster/v2/environments',
        token: this.token,
        pool: CLUSTER_POOL,
        query: { filter: options.filter, sort: options.sort, pageSize: options.pageSize },
      },
      listSchema,
      (page) => page.environments,
    );
  }

  /** Environments must be DISABLED before they can be deleted (reference §1.6). */
  async deleteEnvironment(id: string): Promise<void> {
    await this.http.send({
      method: 'DELETE',
      path: `/api/cluster/v2/environments/${enc(id)}`,
      token: this.token,
      pool: CLUSTER_POOL,
      ok: [204],
    });
  }

  /** Recovery path for the bootstrap token; needs the `EnvironmentTokenManagement` scope (§1.7). */
  async createTokenManagementToken(id: string, options: { name: string; expiresInSeconds: number }): Promise<string> {
    const path = `/api/cluster/v2/environments/${enc(id)}/tokenManagementToken`;
    const response = await this.http.send({
      method: 'POST',
      path,
      token: this.token,
      pool: CLUSTER_POOL,
      json: { name: options.name, expiresIn: { value: options.expiresInSeconds, unit: 'SECONDS' } },
      ok: [201],
    });
    return this.http.parse(z.object({ token: z.string() }), response.body, { method: 'POST', path }).token;
  }

  async listGroups(): Promise<UserGroup[]> {
    const path = '/api/v1.0/onpremise/groups';
    const response = await this.http.send({ method: 'GET', path, token: this.token, pool: CLUSTER_POOL });
    return this.http.parse(z.array(groupSchema), response.body, { method: 'GET', path });
  }

  async getGroup(id: string): Promise<UserGroup | undefined> {
    const path = `/api/v1.0/onpremise/groups/${enc(id)}`;
    try {
      const response = await this.http.send({ method: 'GET', path, token: this.token, pool: CLUSTER_POOL });
      return this.http.parse(groupSchema, response.body, { method: 'GET', path });
    } catch (err) {
      if (err instanceof DynatraceApiError && err.type === DynatraceFailureType.notFound) return undefined;
      throw err;
    }
  }

  /** Not idempotent: a name that exists answers 406, surfaced as DynatraceConflict (§2). */
  async createGroup(input: UserGroupInput): Promise<UserGroup> {
    const path = '/api/v1.0/onpremise/groups';
    const response = await this.http.send({
      method: 'POST',
      path,
      token: this.token,
      pool: CLUSTER_POOL,
      json: { isClusterAdminGroup: false, ldapGroupNames: [], ssoGroupNames: [], ...input },
    });
    return this.http.parse(groupSchema, response.body, { method: 'POST', path });
  }

  /**
   * PUT takes the whole group, id in the body. Only writable fields are sent, the account flags in
   * their writable spelling: a PUT that omits one may reset it (reference §13, [U]).
   */
  async updateGroup(group: UserGroup): Promise<UserGroup> {
    const path = '/api/v1.0/onpremise/groups';
    const response = await this.http.send({
      method: 'PUT',
      path,
      token: this.token,
      pool: CLUSTER_POOL,
      json: {
        id: group.id,
        name: group.name,
        isClusterAdminGroup: group.isClusterAdminGroup ?? false,
        ...(group.isAccessAccount === undefined ? {} : { isAccessAccount: group.isAccessAccount }),
        ...(group.isManageAccount === undefined ? {} : { isManageAccount: group.isManageAccount }),
        ldapGroupNames: group.ldapGroupNames ?? [],
        ssoGroupNames: group.ssoGroupNames ?? [],
        accessRight: group.accessRight ?? {},
      },
    });
    return this.http.parse(groupSchema, response.body, { method: 'PUT', path });
  }

  async deleteGroup(id: string): Promise<void> {
    await this.http.send({
      method: 'DELETE',
      path: `/api/v1.0/onpremise/groups/${enc(id)}`,
      token: this.token,
      pool: CLUSTER_POOL,
    });
  }

  async listAllEnvironments(options: { filter?: string } = {}): Promise<Environment[]> {
    return collect(this.listEnvironments({ ...options, pageSize: 1000 }));
  }
}
