/**
 * Where a Service Catalog version's template lives, from its `TemplateUrl` (reference §2.6), and how to write the URL
 * of a template we upload ourselves.
 *
 * `TemplateUrl` is an S3 object URL in any of the forms S3 has used over the years: path style on the global,
 * regional (`s3.<r>`) or legacy dash-regional (`s3-<r>`) endpoint, or virtual-hosted (`<bucket>.s3…`). Reading it with
 * S3 GetObject (our own permissions) is what public code does, so this module turns every form into bucket + key.
 * Presigned URLs are the exception: they must be fetched exactly as they are, signature and all.
 */

export type TemplateLocation =
  | {
      kind: 's3';
      bucket: string;
      key: string;
      /** The region named by the host; absent for the global endpoint and custom endpoints. */
      region?: string;
      /** A `versionId` query parameter: that version of the object, not the latest one. */
      versionId?: string;
    }
  | { kind: 'https'; url: string };

export interface ParseTemplateUrlOptions {
  /**
   * The S3 endpoint in use when it is not AWS (moto, the sandbox), e.g. `http://127.0.0.1:5055`. With it, only URLs
   * under this endpoint are read as path-style S3 URLs and other non-AWS URLs are fetched as they are. Without it, any
   * non-AWS URL whose first path segment is a valid bucket name and that has a key is taken as path-style S3.
   */
  endpoint?: string;
}

const AWS_SUFFIXES = ['.amazonaws.com', '.amazonaws.com.cn'] as const;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
/** Bucket names as S3 allows them today (3–63 characters, DNS-compatible). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Legacy us-east-1 bucket names, still reachable with path-style URLs on AWS. */
const LEGACY_BUCKET = /^[A-Za-z0-9._-]{1,255}$/;

/**
 * Parses a template URL into an S3 bucket/key (read it with GetObject) or a URL to fetch as is (presigned, or not an
 * S3 URL at all).
 *
 * @throws TypeError for a string that is not an http(s) or s3 URL, or an S3 URL without a bucket or key.
 */
export function parseTemplateUrl(url: string, options: ParseTemplateUrlOptions = {}): TemplateLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol === 's3:') return parseS3Scheme(url, parsed);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new TypeError(`not an http(s) or s3 URL: ${url}`);
  }
  if (isPresigned(parsed)) return { kind: 'https', url };

  const host = parsed.hostname.toLowerCase();
  const path = rawPath(url);
  const versionId = parsed.searchParams.get('versionId') ?? undefined;
  const suffix = AWS_SUFFIXES.find((s) => host.endsWith(s));
  if (suffix !== undefined) {
    const endpoint = splitAwsS3Host(host.slice(0, -suffix.length).split('.'));
    if (endpoint === undefined) return { kind: 'https', url }; // another AWS service, an S3 website endpoint, …
    const { bucket, key } =
      endpoint.bucket === undefined
        ? splitPathStyle(path, url)
        : { bucket: endpoint.bucket, key: decodeKey(path, url) };
    if (!LEGACY_BUCKET.test(bucket)) throw new TypeError(`not a valid S3 bucket name in ${url}`);
    if (key === '') throw new TypeError(`no object key in the S3 URL ${url}`);
    return s3Location(bucket, key, endpoint.region, versionId);
  }

  // A custom endpoint (moto, the sandbox) serves S3 path style: <endpoint>/<bucket>/<key>.
  if (options.endpoint !== undefined) {
    const prefix = endpointPrefix(options.endpoint);
    const here = `${parsed.protocol}//${parsed.host}${path}`;
    if (!here.startsWith(`${prefix}/`)) return { kind: 'https', url };
    const { bucket, key } = splitPathStyle(here.slice(prefix.length), url);
    if (!LEGACY_BUCKET.test(bucket) || key === '') throw new TypeError(`no S3 bucket and key in ${url}`);
    return s3Location(bucket, key, undefined, versionId);
  }
  const { bucket, key } = splitPathStyle(path, url);
  // Without a declared endpoint, only what can be a bucket today counts: `/_emulator/templates/x` is just a URL.
  if (!BUCKET.test(bucket) || key === '') return { kind: 'https', url };
  return s3Location(bucket, key, undefined, versionId);
}

/**
 * The URL of an object we uploaded, for `LoadTemplateFromURL`: virtual-hosted on AWS
 * (`https://<bucket>.s3.<region>.amazonaws.com/<key>`), path style on a custom endpoint (`<endpoint>/<bucket>/<key>`).
 * Buckets with dots in their name get the path-style AWS form instead, because the `*.s3.<region>` TLS certificate
 * does not cover them. Every key segment is percent-encoded (a space as `%20`, a `+` as `%2B`); `/` stays.
 */
export function s3ObjectUrl(options: { bucket: string; key: string; region: string; endpoint?: string }): string {
  const { bucket, key, region, endpoint } = options;
  if (!LEGACY_BUCKET.test(bucket)) throw new TypeError(`not a valid S3 bucket name: ${JSON.stringify(bucket)}`);
  if (key === '') throw new TypeError('an S3 object key cannot be empty');
  const encodedKey = key.split('/').map(encodeSegment).join('/');
  if (endpoint !== undefined && endpoint !== '') {
    return `${endpointPrefix(endpoint)}/${encodeSegment(bucket)}/${encodedKey}`;
  }
  if (!/^[a-z0-9-]+$/.test(region)) throw new TypeError(`not an AWS region: ${JSON.stringify(region)}`);
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  if (bucket.includes('.') || !BUCKET.test(bucket)) {
    return `https://s3.${region}.${domain}/${encodeSegment(bucket)}/${encodedKey}`;
  }
  return `https://${bucket}.s3.${region}.${domain}/${encodedKey}`;
}

// --- helpers -----------------------------------------------------------------------------------------------------

/** SigV4 (`X-Amz-Signature`) or SigV2 (`Signature` + `AWSAccessKeyId`) query-string authentication. */
function isPresigned(url: URL): boolean {
  const names = [...url.searchParams.keys()].map((name) => name.toLowerCase());
  return names.includes('x-amz-signature') || (names.includes('signature') && names.includes('awsaccesskeyid'));
}

/**
 * Splits the labels of an AWS host (without `.amazonaws.com`) into an optional bucket and the S3 endpoint:
 * `s3`, `s3-external-1`, `s3-<r>`, `s3.<r>`, `s3.dualstack.<r>`, `s3-fips.<r>`, `s3-fips.dualstack.<r>`, each
 * optionally preceded by a bucket name (which may itself contain dots). Undefined when the host is not S3.
 */
function splitAwsS3Host(labels: string[]): { bucket: string | undefined; region: string | undefined } | undefined {
  for (let i = 0; i < labels.length; i++) {
    const region = s3EndpointRegion(labels.slice(i));
    if (region === false) continue;
    return { bucket: i === 0 ? undefined : labels.slice(0, i).join('.'), region };
  }
  return undefined;
}

/** The region an S3 endpoint's labels name (undefined: the global endpoint), or false when they are not S3's. */
function s3EndpointRegion(labels: string[]): string | undefined | false {
  const [first, ...rest] = labels;
  if (first === undefined) return false;
  if (rest.length === 0) {
    if (first === 's3') return undefined;
    if (first === 's3-external-1') return 'us-east-1';
    const region = first.startsWith('s3-') ? first.slice(3) : '';
    return REGION.test(region) ? region : false;
  }
  if (first !== 's3' && first !== 's3-fips') return false;
  const regionLabels = rest[0] === 'dualstack' ? rest.slice(1) : rest;
  const [region, ...extra] = regionLabels;
  return region !== undefined && extra.length === 0 && REGION.test(region) ? region : false;
}

/** The path exactly as written (the URL class would resolve `.` and `..` segments, which are legal in keys). */
function rawPath(url: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(url);
  const path = match?.[1] ?? '';
  return path === '' ? '/' : path;
}

function splitPathStyle(path: string, url: string): { bucket: string; key: string } {
  const slash = path.indexOf('/', 1);
  if (slash < 0) return { bucket: decodeComponent(path.slice(1), url), key: '' };
  return { bucket: decodeComponent(path.slice(1, slash), url), key: decodeComponent(path.slice(slash + 1), url) };
}

function decodeKey(path: string, url: string): string {
  return decodeComponent(path.slice(1), url);
}

/** S3 reads `+` in an object URL's path as a space (its console writes keys that way); a literal plus is `%2B`. */
function decodeComponent(text: string, url: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    throw new TypeError(`malformed percent-encoding in ${url}`);
  }
}

function parseS3Scheme(url: string, parsed: URL): TemplateLocation {
  const bucket = parsed.hostname;
  const key = decodeKey(rawPath(url), url);
  if (!LEGACY_BUCKET.test(bucket) || key === '') throw new TypeError(`no S3 bucket and key in ${url}`);
  return s3Location(bucket, key, undefined, parsed.searchParams.get('versionId') ?? undefined);
}

function s3Location(
  bucket: string,
  key: string,
  region: string | undefined,
  versionId: string | undefined,
): TemplateLocation {
  return {
    kind: 's3',
    bucket,
    key,
    ...(region === undefined ? {} : { region }),
    ...(versionId === undefined ? {} : { versionId }),
  };
}

/** `scheme://host[:port][/path]` of an endpoint, without a trailing slash. */
function endpointPrefix(endpoint: string): string {
  let parsed: URL;
  try {
    parsed = new URL(endpoint);
  } catch {
    throw new TypeError(`not an endpoint URL: ${JSON.stringify(endpoint)}`);
  }
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** RFC 3986 unreserved characters stay, everything else is percent-encoded (as SigV4 canonical URIs do). */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
