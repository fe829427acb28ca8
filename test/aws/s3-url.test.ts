import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { parseTemplateUrl, s3ObjectUrl, type TemplateLocation } from '../../src/aws/s3-url.js';

describe('parseTemplateUrl: every S3 URL form of reference §2.6', () => {
  const key = 'products/web-server/v1.yaml';
  it.each<[string, string, TemplateLocation]>([
    ['global path style', `https://s3.amazonaws.com/sc-templates/${key}`, { kind: 's3', bucket: 'sc-templates', key }],
    [
      'regional path style',
      `https://s3.eu-central-1.amazonaws.com/sc-templates/${key}`,
      { kind: 's3', bucket: 'sc-templates', key, region: 'eu-central-1' },
    ],
    [
      'legacy dash-regional path style',
      `https://s3-us-west-2.amazonaws.com/sc-templates/${key}`,
      { kind: 's3', bucket: 'sc-templates', key, region: 'us-west-2' },
    ],
    [
      'global virtual-hosted',
      `https://sc-templates.s3.amazonaws.com/${key}`,
      { kind: 's3', bucket: 'sc-templates', key },
    ],
    [
      'regional virtual-hosted',
      `https://sc-templates.s3.ap-southeast-2.amazonaws.com/${key}`,
      { kind: 's3', bucket: 'sc-templates', key, region: 'ap-southeast-2' },
    ],
    [
      'legacy dash-regional virtual-hosted',
      `https://sc-templates.s3-eu-west-1.amazonaws.com/${key}`,
      { kind: 's3', bucket: 'sc-templates', key, region: 'eu-west-1' },
    ],
    [
      'virtual-hosted bucket with dots',
      `https://templates.example.com.s3.us-east-1.amazonaws.com/${key}`,
      { kind: 's3', bucket: 'templates.example.com', key, region: 'us-east-1' },
    ],
    [
      'bucket named like the endpoint',
      `https://s3.backups.s3.us-east-2.amazonaws.com/${key}`,
      { kind: 's3', bucket: 's3.backups', key, region: 'us-east-2' },
    ],
    [
      'dual-stack virtual-hosted',
      `https://sc-templates.s3.dualstack.us-east-1.amazonaws.com/${key}`,
      { kind: 's3', bucket: 'sc-templates', key, region: 'us-east-1' },
    ],
    [
      'FIPS path style in GovCloud',
      `https://s3-fips.us-gov-west-1.amazonaws.com/sc-templates/${key}`,
      { kind: 's3', bucket: 'sc-templates', key, region: 'us-gov-west-1' },
    ],
    [
      'China regions',
      `https://sc-templates.s3.cn-north-1.amazonaws.com.cn/${key}`,
      { kind: 's3', bucket: 'sc-templates', key, region: 'cn-north-1' },
    ],
    [
      'the s3-external-1 alias of us-east-1',
      `https://s3-external-1.amazonaws.com/sc-templates/${key}`,
      { kind: 's3', bucket: 'sc-templates', key, region: 'us-east-1' },
    ],
    ['plain http', `http://sc-templates.s3.amazonaws.com/${key}`, { kind: 's3', bucket: 'sc-templates', key }],
    ['an s3:// URL', `s3://sc-templates/${key}`, { kind: 's3', bucket: 'sc-templates', key }],
    [
      'upper-case host',
      `https://SC-Templates.S3.US-EAST-1.AmazonAWS.com/${key}`,
      { kind: 's3', bucket: 'sc-templates', key, region: 'us-east-1' },
    ],
  ])('%s', (_form, url, expected) => {
    expect(parseTemplateUrl(url)).toEqual(expected);
  });
});

describe('parseTemplateUrl: keys', () => {
  it('URL-decodes the key, keeping "/" separators, in path style and virtual-hosted style', () => {
    expect(parseTemplateUrl('https://s3.us-east-1.amazonaws.com/b-1/My%20Products/web%20server%2Fv2.yaml')).toEqual({
      kind: 's3',
      bucket: 'b-1',
      key: 'My Products/web server/v2.yaml',
      region: 'us-east-1',
    });
    expect(parseTemplateUrl('https://b-1.s3.us-east-1.amazonaws.com/caf%C3%A9/%E2%9C%93%20(1).json')).toMatchObject({
      key: 'café/✓ (1).json',
    });
  });

  it('reads "+" as a space, as S3 does, and "%2B" as a plus sign', () => {
    expect(parseTemplateUrl('https://b-1.s3.amazonaws.com/web+server/c%2B%2B.yaml')).toMatchObject({
      key: 'web server/c++.yaml',
    });
  });

  it('keeps "." and ".." segments, which are ordinary characters in a key', () => {
    expect(parseTemplateUrl('https://s3.amazonaws.com/b-1/a/../b/./t.yaml')).toMatchObject({
      bucket: 'b-1',
      key: 'a/../b/./t.yaml',
    });
  });

  it('keeps a versionId so the version the URL names is read, and ignores other query parameters', () => {
    expect(
      parseTemplateUrl('https://b-1.s3.amazonaws.com/t.yaml?versionId=3HL4kqtJlcpXroDTDmJ%2Bq&x-id=GetObject'),
    ).toEqual({ kind: 's3', bucket: 'b-1', key: 't.yaml', versionId: '3HL4kqtJlcpXroDTDmJ+q' });
  });

  it('accepts the legacy upper-case and underscore bucket names path style allows', () => {
    expect(parseTemplateUrl('https://s3.amazonaws.com/Legacy_Bucket/t.yaml')).toMatchObject({
      bucket: 'Legacy_Bucket',
      key: 't.yaml',
    });
  });
});

describe('parseTemplateUrl: presigned and non-S3 URLs', () => {
  it('fetches a SigV4-presigned URL as is, path or virtual-hosted style', () => {
    const virtual =
      'https://sc-templates.s3.us-east-1.amazonaws.com/t.yaml?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
      '&X-Amz-Credential=AKIA%2F20261122%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261122T000000Z' +
      '&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=0123abcd';
    expect(parseTemplateUrl(virtual)).toEqual({ kind: 'https', url: virtual });
    const pathStyle = 'https://s3.amazonaws.com/sc-templates/t.yaml?x-amz-signature=ff&X-Amz-Date=20261122T000000Z';
    expect(parseTemplateUrl(pathStyle)).toEqual({ kind: 'https', url: pathStyle });
  });

  it('fetches a SigV2-presigned URL as is', () => {
    const url = 'https://sc-templates.s3.amazonaws.com/t.yaml?AWSAccessKeyId=AKIA&Expires=1795000000&Signature=abc%3D';
    expect(parseTemplateUrl(url)).toEqual({ kind: 'https', url });
  });

  it('fetches AWS URLs that are not S3 object URLs as they are', () => {
    for (const url of [
      'http://sc-templates.s3-website-us-east-1.amazonaws.com/t.yaml',
      'https://abc123.execute-api.us-east-1.amazonaws.com/prod/t.yaml',
    ]) {
      expect(parseTemplateUrl(url)).toEqual({ kind: 'https', url });
    }
  });

  it('reads a path-style URL on a custom endpoint (moto) as S3, without a region', () => {
    expect(parseTemplateUrl('http://127.0.0.1:5055/autopilot-templates/dynatrace-autopilot/p-1/t%20v2.yaml')).toEqual({
      kind: 's3',
      bucket: 'autopilot-templates',
      key: 'dynatrace-autopilot/p-1/t v2.yaml',
    });
  });

  it('fetches a non-AWS URL as is when its first segment cannot be a bucket or there is no key', () => {
    for (const url of [
      'http://127.0.0.1:43121/_emulator/templates/pa-abc123',
      'https://templates.example.com/web.yaml',
      'https://templates.example.com/Upper/web.yaml',
    ]) {
      expect(parseTemplateUrl(url)).toEqual({ kind: 'https', url });
    }
  });

  it('with a declared endpoint, reads only URLs under it as S3 (also below a path prefix)', () => {
    const endpoint = 'http://localhost:4566/s3-proxy/';
    expect(parseTemplateUrl('http://localhost:4566/s3-proxy/b-1/k/t.yaml', { endpoint })).toEqual({
      kind: 's3',
      bucket: 'b-1',
      key: 'k/t.yaml',
    });
    const elsewhere = 'http://localhost:4567/b-1/k/t.yaml';
    expect(parseTemplateUrl(elsewhere, { endpoint })).toEqual({ kind: 'https', url: elsewhere });
    expect(() => parseTemplateUrl('http://localhost:4566/s3-proxy/b-1', { endpoint })).toThrow(TypeError);
  });
});

describe('parseTemplateUrl: errors', () => {
  it.each([
    ['not a URL', 'sc-templates/t.yaml'],
    ['another scheme', 'ftp://sc-templates.s3.amazonaws.com/t.yaml'],
    ['an S3 URL without a key', 'https://sc-templates.s3.us-east-1.amazonaws.com/'],
    ['an S3 path-style URL without a key', 'https://s3.us-east-1.amazonaws.com/sc-templates'],
    ['an S3 path-style URL without a bucket', 'https://s3.amazonaws.com/'],
    ['an s3:// URL without a key', 's3://sc-templates'],
    ['malformed percent-encoding', 'https://sc-templates.s3.amazonaws.com/t%E0%A4%A.yaml'],
  ])('throws TypeError for %s', (_what, url) => {
    expect(() => parseTemplateUrl(url)).toThrow(TypeError);
  });
});

describe('s3ObjectUrl', () => {
  it('renders a virtual-hosted AWS URL with a percent-encoded key', () => {
    expect(
      s3ObjectUrl({ bucket: 'sc-templates', key: 'dynatrace-autopilot/p-1/v 2+(1).yaml', region: 'eu-west-1' }),
    ).toBe('https://sc-templates.s3.eu-west-1.amazonaws.com/dynatrace-autopilot/p-1/v%202%2B%281%29.yaml');
  });

  it('renders path style on a custom endpoint, with or without a trailing slash', () => {
    for (const endpoint of ['http://127.0.0.1:5055', 'http://127.0.0.1:5055/']) {
      expect(s3ObjectUrl({ bucket: 'b-1', key: 'a/b c.json', region: 'us-east-1', endpoint })).toBe(
        'http://127.0.0.1:5055/b-1/a/b%20c.json',
      );
    }
  });

  it('uses the path-style AWS form for bucket names with dots (not covered by the TLS certificate)', () => {
    expect(s3ObjectUrl({ bucket: 'templates.example.com', key: 't.yaml', region: 'us-east-2' })).toBe(
      'https://s3.us-east-2.amazonaws.com/templates.example.com/t.yaml',
    );
  });

  it('uses amazonaws.com.cn in China regions', () => {
    expect(s3ObjectUrl({ bucket: 'b-1', key: 't.yaml', region: 'cn-northwest-1' })).toBe(
      'https://b-1.s3.cn-northwest-1.amazonaws.com.cn/t.yaml',
    );
  });

  it('refuses an empty key, an invalid bucket or region', () => {
    expect(() => s3ObjectUrl({ bucket: 'b-1', key: '', region: 'us-east-1' })).toThrow(TypeError);
    expect(() => s3ObjectUrl({ bucket: 'b/1', key: 't', region: 'us-east-1' })).toThrow(TypeError);
    expect(() => s3ObjectUrl({ bucket: 'b-1', key: 't', region: 'us-east-1.evil.com/x' })).toThrow(TypeError);
  });

  it.each([
    'plain.yaml',
    'nested/dirs/with spaces/t.yaml',
    'plus+and%percent&amp#hash?query.yaml',
    "quotes'and(parens)*!.json",
    'ünïcödé/テンプレート.yaml',
    'trailing/slash/',
    'a/../b/./c',
  ])('round-trips the key %j through parseTemplateUrl', (key) => {
    for (const [bucket, endpoint] of [
      ['sc-templates', undefined],
      ['templates.example.com', undefined],
      ['sc-templates', 'http://127.0.0.1:5055'],
    ] as const) {
      const url = s3ObjectUrl({ bucket, key, region: 'us-west-2', ...(endpoint ? { endpoint } : {}) });
      expect(parseTemplateUrl(url)).toEqual({
        kind: 's3',
        bucket,
        key,
        ...(endpoint ? {} : { region: 'us-west-2' }),
      });
    }
  });
});

describe('against moto (what the remediation does: upload, hand out the URL, read it back)', () => {
  const endpoint = inject('motoUrl');
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const bucket = `s3-url-test-${randomBytes(4).toString('hex')}`;
  const key = 'dynatrace-autopilot/prod-abc/pa-1 → t3.small+extra.yaml';
  const body = 'Resources: {}\n';

  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // Public so that an unsigned GET may read it (moto, like S3, answers 403 otherwise).
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ACL: 'public-read' }));
  });
  afterAll(() => s3.destroy());

  it('parses the URL s3ObjectUrl made into the bucket and key GetObject reads', async () => {
    const url = s3ObjectUrl({ bucket, key, region: 'us-east-1', endpoint });
    const location = parseTemplateUrl(url);
    expect(location).toEqual({ kind: 's3', bucket, key });
    if (location.kind !== 's3') return;
    const object = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
    expect(await object.Body?.transformToString('utf8')).toBe(body);
  });

  it('serves the object at that URL to a plain HTTP GET (the encoded space, plus and arrow name the same key)', async () => {
    const response = await fetch(s3ObjectUrl({ bucket, key, region: 'us-east-1', endpoint }));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(body);
  });
});
