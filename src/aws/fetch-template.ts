import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { AwsClients } from './aws-clients.js';
import { asAwsFailure } from './aws-failure.js';
import { parseTemplateUrl } from './s3-url.js';

/** A version's template, read with our own S3 permissions, or over HTTPS when the URL is presigned. */
export async function fetchTemplate(aws: AwsClients, url: string): Promise<string> {
  const location = parseTemplateUrl(url, aws.s3Endpoint ? { endpoint: aws.s3Endpoint } : {});
  if (location.kind === 'https') {
    const response = await fetch(location.url, { signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new Error(`template ${location.url} answered HTTP ${response.status}`);
    return response.text();
  }
  try {
    const object = await aws.s3.send(
      new GetObjectCommand({
        Bucket: location.bucket,
        Key: location.key,
        ...(location.versionId ? { VersionId: location.versionId } : {}),
      }),
    );
    return await object.Body!.transformToString('utf8');
  } catch (err) {
    throw asAwsFailure(err, `reading the template s3://${location.bucket}/${location.key}`);
  }
}
