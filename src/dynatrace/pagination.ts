import type { z } from 'zod';
import type { ApiRequest, DynatraceHttp, QueryValue } from './http-client.js';

type ListRequest = Omit<ApiRequest, 'method' | 'query' | 'json' | 'ok'> & { query: Record<string, QueryValue> };

const MAX_PAGES = 100_000;

/**
 * The four pagination styles of reference §9.2. v2 APIs and the cluster environment list: the
 * next request carries only `nextPageKey`. Passing the original query again is an error there,
 * except for the parameters `repeatWithPageKey` names: they hold for one page only and must go
 * with every key (problems v2 `fields`, reference §13).
 */
export async function* paginateV2<S extends z.ZodType<{ nextPageKey?: string | null | undefined }>, T>(
  http: DynatraceHttp,
  request: ListRequest,
  schema: S,
  items: (page: z.infer<S>) => T[],
  options: { repeatWithPageKey?: string[] } = {},
): AsyncGenerator<T> {
  const repeated = Object.fromEntries(
    (options.repeatWithPageKey ?? []).map((name) => [name, request.query[name]] as const),
  );
  let query: Record<string, QueryValue> = request.query;
  for (let n = 0; n < MAX_PAGES; n++) {
    const response = await http.send({ ...request, method: 'GET', query });
    const page = http.parse(schema, response.body, { method: 'GET', path: request.path });
    yield* items(page);
    if (!page.nextPageKey) return;
    query = { ...repeated, nextPageKey: page.nextPageKey };
  }
}

/**
 * The v1 styles: every parameter is repeated with the key. Hosts v1 sends the key in the
 * `Next-Page-Key` header; OneAgents v1 in the body, and an empty page may still carry one.
 */
async function* paginateV1<S extends z.ZodType, T>(
  http: DynatraceHttp,
  request: ListRequest,
  schema: S,
  items: (page: z.infer<S>) => T[],
  nextKey: (page: z.infer<S>, headers: Record<string, string | string[] | undefined>) => string | undefined,
): AsyncGenerator<T> {
  let key: string | undefined;
  for (let n = 0; n < MAX_PAGES; n++) {
    const response = await http.send({ ...request, method: 'GET', query: { ...request.query, nextPageKey: key } });
    const page = http.parse(schema, response.body, { method: 'GET', path: request.path });
    yield* items(page);
    key = nextKey(page, response.headers);
    if (!key) return;
  }
}

/** Hosts v1: the key comes in the `Next-Page-Key` header; every other parameter is repeated. */
export function paginateV1Header<S extends z.ZodType, T>(
  http: DynatraceHttp,
  request: ListRequest,
  schema: S,
  items: (page: z.infer<S>) => T[],
): AsyncGenerator<T> {
  return paginateV1(http, request, schema, items, (_page, headers) => {
    const next = headers['next-page-key'];
    return Array.isArray(next) ? next[0] : next;
  });
}

/** OneAgents v1: body key, other parameters repeated, and an empty page may still carry a key. */
export function paginateV1Body<S extends z.ZodType<{ nextPageKey?: string | null | undefined }>, T>(
  http: DynatraceHttp,
  request: ListRequest,
  schema: S,
  items: (page: z.infer<S>) => T[],
): AsyncGenerator<T> {
  return paginateV1(http, request, schema, items, (page) => page.nextPageKey ?? undefined);
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
