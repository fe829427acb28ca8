import { ENVIRONMENT_ID } from '../shared/environments.js';

/**
 * Where Dynatrace serves the classic environment API of SaaS environments to API tokens: each
 * environment is `https://<id>.live.dynatrace.com`
 * (https://docs.dynatrace.com/docs/dynatrace-api/basics/dynatrace-api-authentication).
 */
export const DEFAULT_SAAS_DOMAINS: readonly string[] = ['live.dynatrace.com'];

/** What decides where a token may go, besides the clusters of the configuration. */
export interface EnvironmentUrlRules {
  /** A SaaS environment's host is a subdomain of one of these (AUTOPILOT_SAAS_DOMAINS). */
  saasDomains: readonly string[];
  /** Only the sandbox speaks plain http, to its own simulator. */
  sandbox: boolean;
}

/** A URL that is not an environment's, with the reason in one line. */
export class EnvironmentUrlError extends Error {
  override name = 'EnvironmentUrlError';
}

/** An environment URL as an operator pastes it, understood: where its API starts, and what it says. */
export interface UnderstoodEnvironmentUrl {
  /** SaaS: nothing after the host; Managed: `/e/<id>` after the cluster's. */
  form: 'saas' | 'managed';
  /** `https://abc12345.live.dynatrace.com` or `https://managed.example.com/e/abc-p1`, no trailing `/`. */
  url: string;
  /** SaaS: the first label of the host; Managed: the segment after `/e/`. */
  environmentId: string;
  /** Managed: the cluster's URL the environment lives on. */
  clusterUrl?: string;
  /** What was changed beyond trimming, for the operator to read (a platform URL mapped to its API host). */
  notes: string[];
}

/**
 * Platform ("apps") hosts serve the platform UI and `/platform/…` APIs to OAuth clients and platform
 * tokens, not the environment API to API tokens; each has a classic host that does, named like it
 * without `apps` (and `live` in its place on dynatrace.com).
 */
const PLATFORM_HOSTS: { pattern: RegExp; classic: (id: string) => string; domain: string }[] = [
  { pattern: /^([a-z0-9-]+)\.apps\.dynatrace\.com$/, classic: (id) => `${id}.live.dynatrace.com`, domain: '' },
  {
    pattern: /^([a-z0-9-]+)\.sprint\.apps\.dynatracelabs\.com$/,
    classic: (id) => `${id}.sprint.dynatracelabs.com`,
    domain: 'sprint.dynatracelabs.com',
  },
  {
    pattern: /^([a-z0-9-]+)\.dev\.apps\.dynatracelabs\.com$/,
    classic: (id) => `${id}.dev.dynatracelabs.com`,
    domain: 'dev.dynatracelabs.com',
  },
];
const ANY_PLATFORM_HOST = /(^|\.)apps\.(dynatrace|dynatracelabs)\.com$/;

/** Path segments that start something below an environment's API root: the UI, an API call, the platform. */
const TAIL_SEGMENTS = new Set(['ui', 'api', 'platform']);

/**
 * Understands the forms operators paste: the query and fragment go, so does a UI path (`/ui/…`),
 * an API tail (`/api`, `/api/v2`, `/api/config/v1`, any call below them) and `/platform/…`; a
 * platform (`apps`) host becomes the classic host that serves API tokens (the notes say so). What
 * is left must be a SaaS host or a Managed `/e/<id>`; anything else is refused with a reason that
 * names the form. Nothing here says whether the URL may be used: see `saasUrlRefusal` and the
 * cluster check.
 */
export function understandEnvironmentUrl(
  text: string,
  saasDomains: readonly string[] = DEFAULT_SAAS_DOMAINS,
): UnderstoodEnvironmentUrl {
  const pasted = text.trim();
  // What a refusal echoes of the text: never its query, fragment or user info, where a token may
  // have been pasted along.
  const quoted = JSON.stringify(
    pasted
      .replace(/[?#].*$/s, '')
      .replace(/^([^/]*\/\/)[^/@]*@/, '$1')
      .slice(0, 200),
  );
  if (pasted === '') throw new EnvironmentUrlError('the environment URL is empty');
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(pasted) ? pasted : `https://${pasted}`);
  } catch {
    throw new EnvironmentUrlError(`${quoted} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new EnvironmentUrlError(`${quoted} is not an http(s) URL like https://abc12345.live.dynatrace.com`);
  }
  if (url.username || url.password) {
    throw new EnvironmentUrlError(`${quoted} carries a user name or password; give the URL without them`);
  }
  const notes: string[] = [];
  let host = url.hostname.replace(/\.$/, '');
  const origin = () => `${url.protocol}//${host}${url.port ? `:${url.port}` : ''}`;
  const platform = PLATFORM_HOSTS.find((p) => p.pattern.test(host));
  if (platform) {
    if (platform.domain && !saasDomains.includes(platform.domain)) {
      throw new EnvironmentUrlError(
        `${quoted} is a platform (apps) URL, which does not serve the environment API to API tokens, and ${platform.domain} is not on AUTOPILOT_SAAS_DOMAINS to map it to`,
      );
    }
    const before = origin();
    host = platform.classic(platform.pattern.exec(host)![1]!);
    notes.push(
      `${before} is the platform (apps) URL, which does not serve the environment API to API tokens: using ${origin()}`,
    );
  } else if (ANY_PLATFORM_HOST.test(host)) {
    throw new EnvironmentUrlError(
      `${quoted} is a platform (apps) URL of a form Autopilot cannot map to its environment API host; give the environment's classic URL (https://<id>.live.dynatrace.com)`,
    );
  }

  const segments = url.pathname.split('/').filter((s) => s !== '');
  // A Managed environment's own id may be spelled like a tail (`/e/api`): the search starts after it.
  const from = segments[0] === 'e' ? 2 : 0;
  const tail = segments.findIndex((s, i) => i >= from && TAIL_SEGMENTS.has(s.toLowerCase()));
  const kept = tail === -1 ? segments : segments.slice(0, tail);
  if (kept.length === 0) {
    const environmentId = host.split('.')[0]!;
    if (!/[a-z]/.test(host) || !host.includes('.') || !ENVIRONMENT_ID.test(environmentId)) {
      throw new EnvironmentUrlError(
        `${quoted} names no environment: a SaaS environment's URL is https://<environment id>.<domain>, a Managed one's https://<cluster>/e/<environment id>`,
      );
    }
    return { form: 'saas', url: origin(), environmentId, notes };
  }
  if (kept.length === 2 && kept[0] === 'e') {
    let environmentId: string;
    try {
      environmentId = decodeURIComponent(kept[1]!);
    } catch {
      environmentId = kept[1]!;
    }
    if (!ENVIRONMENT_ID.test(environmentId)) {
      throw new EnvironmentUrlError(`${quoted}: ${JSON.stringify(environmentId)} after /e/ is not an environment id`);
    }
    return {
      form: 'managed',
      url: managedEnvironmentUrl(origin(), environmentId),
      environmentId,
      clusterUrl: origin(),
      notes,
    };
  }
  throw new EnvironmentUrlError(
    `${quoted}: the path /${kept.join('/')} is neither a SaaS environment's (nothing after the host) nor a Managed one's (/e/<environment id>)`,
  );
}

/** A Managed environment's URL: its cluster's, plus `/e/<id>`. */
export function managedEnvironmentUrl(clusterUrl: string, environmentId: string): string {
  return `${clusterUrl.replace(/\/+$/, '')}/e/${encodeURIComponent(environmentId)}`;
}

/** Whether two URLs name the same place once parsed (case of the host, default ports, a trailing `/`). */
export function sameUrl(a: string, b: string): boolean {
  const canonical = (text: string) => {
    try {
      return new URL(text).href.replace(/\/+$/, '');
    } catch {
      return text;
    }
  };
  return canonical(a) === canonical(b);
}

/** `host` is `domain` with at least one label in front. */
export function isSubdomainOf(host: string, domain: string): boolean {
  return host.length > domain.length + 1 && host.endsWith(`.${domain}`);
}

/**
 * Why a token may not go to `url` as a SaaS environment's API, or undefined when it may: https
 * (plain http only in the sandbox), no credentials in it, and a host below a configured SaaS domain.
 */
export function saasUrlRefusal(url: string, rules: EnvironmentUrlRules): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not a URL`;
  }
  if (parsed.username || parsed.password) return `${parsed.origin} carries a user name or password`;
  if (parsed.protocol === 'http:' && !rules.sandbox) {
    return `${parsed.origin} is plain http: tokens go to SaaS environments over https only (http is for the sandbox's simulator)`;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return `${parsed.origin} is not an https URL`;
  const host = parsed.hostname.replace(/\.$/, '');
  if (!rules.saasDomains.some((domain) => isSubdomainOf(host, domain))) {
    return `${host} is not a SaaS environment's host: it is below none of AUTOPILOT_SAAS_DOMAINS (${rules.saasDomains.join(', ') || 'none'})`;
  }
  return undefined;
}
