import type { IncomingMessage } from 'node:http';
import type { SimResponse } from './http.js';
import type { EnvironmentRecord } from './state.js';

export interface RequestContext {
  req: IncomingMessage;
  url: URL;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body (lazily read by the server before the handler runs, when the method has one). */
  body: () => unknown;
  rawBody: Buffer;
  /** Set by the authentication step: the environment token's owner, or the cluster token's name. */
  principal: string;
  /** Set for environment routes once the environment and its token are checked. */
  environment?: EnvironmentRecord;
}

/** The environment of an environment route (the server resolved it before calling the handler). */
export function environmentOf(ctx: RequestContext): EnvironmentRecord {
  if (!ctx.environment) throw new Error(`route ${ctx.url.pathname} has no environment`);
  return ctx.environment;
}

export type Handler = (ctx: RequestContext) => SimResponse | Promise<SimResponse>;

export interface RouteDefinition {
  method: string;
  /** `/api/cluster/v2/environments/{id}`; environment routes are relative to `/e/{environmentId}`. */
  pattern: string;
  area: 'cluster' | 'environment' | 'agent' | 'control';
  /** Any one of these scopes is enough (Dynatrace says "Use one of: ..."). */
  scopes: string[];
  handler: Handler;
}

export interface MatchedRoute {
  route: RouteDefinition;
  params: Record<string, string>;
  name: string;
}

interface CompiledRoute {
  route: RouteDefinition;
  segments: string[];
  name: string;
}

/** Literal segments beat parameters, so `/agent/versions/{os}/{type}` is not taken for `/agent/{os}/{type}/latest`. */
export class Router {
  private readonly compiled: CompiledRoute[] = [];

  add(route: RouteDefinition): void {
    const full = route.area === 'environment' ? `/e/{environmentId}${route.pattern}` : route.pattern;
    this.compiled.push({ route, segments: full.split('/').filter(Boolean), name: `${route.method} ${full}` });
    this.compiled.sort((a, b) => specificity(b.segments) - specificity(a.segments));
  }

  match(method: string, pathname: string): MatchedRoute | 'method-not-allowed' | undefined {
    const parts = pathname.split('/').filter(Boolean);
    let pathMatched = false;
    for (const candidate of this.compiled) {
      const params = matchSegments(candidate.segments, parts);
      if (!params) continue;
      pathMatched = true;
      if (candidate.route.method === method) return { route: candidate.route, params, name: candidate.name };
    }
    return pathMatched ? 'method-not-allowed' : undefined;
  }
}

function specificity(segments: string[]): number {
  return segments.reduce((score, s, i) => score + (s.startsWith('{') ? 0 : 1 / (i + 1)), 0) + segments.length * 10;
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith('{')) {
      try {
        params[p.slice(1, -1)] = decodeURIComponent(parts[i]!);
      } catch {
        return undefined;
      }
    } else if (p !== parts[i]) {
      return undefined;
    }
  }
  return params;
}
