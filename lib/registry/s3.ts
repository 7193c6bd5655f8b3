/**
 * The S3 client the registry commands use, and how S3's errors are told apart. Credentials and region
 * come from the standard AWS chain (environment, shared config and credentials files, SSO, container
 * and instance roles); `endpointUrl` points the client at an S3-compatible store instead of AWS.
 */
import { S3Client } from '@aws-sdk/client-s3';

export interface RegistryClientOptions {
  /** AWS region. @default - from the standard chain (AWS_REGION, the profile's config); us-east-1 with an endpointUrl */
  readonly region?: string;
  /** An S3-compatible endpoint such as http://127.0.0.1:9000; path-style addressing is used with it. @default - AWS S3 */
  readonly endpointUrl?: string;
  /** A named profile from the shared AWS config files. @default - AWS_PROFILE, or the default profile */
  readonly profile?: string;
}

export function createRegistryClient(options: RegistryClientOptions = {}): S3Client {
  const endpoint = options.endpointUrl;
  const region =
    options.region ?? (endpoint !== undefined && !process.env.AWS_REGION && !process.env.AWS_DEFAULT_REGION ? 'us-east-1' : undefined);
  const client = new S3Client({
    ...(region !== undefined ? { region } : {}),
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    ...(endpoint !== undefined ? { endpoint, forcePathStyle: true } : { followRegionRedirects: true }),
  });
  return endpoint !== undefined ? withBucketPathWithoutSlash(client) : client;
}

/**
 * Sends bucket-level requests (ListObjectsV2 and the like) path-style as `/bucket?...`, not `/bucket/?...`.
 *
 * SDK v3's endpoint rules put the bucket in the endpoint and then append the operation's path `/`, so a
 * path-style ListObjectsV2 goes out as `GET /bucket/?list-type=2` and is signed with the canonical URI
 * `/bucket/`. AWS S3 signs the path it receives, so either form works there; S3-compatible servers that
 * rebuild the canonical URI from the bucket name (s3rver, which the tests run, among them) compute
 * `/bucket` and answer SignatureDoesNotMatch. The AWS CLI sends `/bucket?list-type=2`, which is why it
 * lists the same bucket fine. This runs before signing, so the signature covers the path actually sent.
 * Object requests (those with a Key) are left alone: a key may end with a slash.
 */
export function withBucketPathWithoutSlash(client: S3Client): S3Client {
  client.middlewareStack.add(
    (next) => (args) => {
      const input = args.input as { Bucket?: unknown; Key?: unknown };
      const request = args.request as { path?: unknown } | undefined;
      if (
        typeof input.Bucket === 'string' &&
        input.Key === undefined &&
        typeof request?.path === 'string' &&
        request.path.endsWith(`/${input.Bucket}/`)
      ) {
        request.path = request.path.slice(0, -1);
      }
      return next(args);
    },
    { step: 'build', name: 'modelshipBucketPathWithoutSlash', override: true },
  );
  return client;
}

/** What an S3 error looks like once the SDK has parsed it. */
interface S3ErrorShape {
  readonly name?: string;
  readonly Code?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** The HTTP status of an SDK error, when it came from S3. */
export function s3Status(err: unknown): number | undefined {
  return (err as S3ErrorShape | null)?.$metadata?.httpStatusCode;
}

/** S3's error code (NoSuchKey, AccessDenied, PreconditionFailed...), or the error's name. */
export function s3Code(err: unknown): string {
  const e = err as S3ErrorShape | null;
  return e?.Code ?? e?.name ?? 'Error';
}

export function isNotFound(err: unknown): boolean {
  const code = s3Code(err);
  return code === 'NoSuchKey' || code === 'NotFound' || (s3Status(err) === 404 && code !== 'NoSuchBucket');
}

/** A conditional write lost: the object appeared (If-None-Match) or changed (If-Match) meanwhile. */
export function isConditionFailed(err: unknown): boolean {
  const code = s3Code(err);
  return code === 'PreconditionFailed' || code === 'ConditionalRequestConflict' || s3Status(err) === 412 || s3Status(err) === 409;
}

/** Credentials S3 accepted but a policy refused; a bad signature or unknown key is a 403 too, but not this. */
export function isAccessDenied(err: unknown): boolean {
  const code = s3Code(err);
  if (code === 'SignatureDoesNotMatch' || code === 'InvalidAccessKeyId') return false;
  return code === 'AccessDenied' || code === 'Forbidden' || s3Status(err) === 403;
}

/** S3 computed a different checksum over the bytes it received than the one the request declared. */
export function isChecksumMismatch(err: unknown): boolean {
  const code = s3Code(err);
  return code === 'BadDigest' || code === 'InvalidDigest' || code === 'XAmzContentChecksumMismatch' || code === 'XAmzContentSHA256Mismatch';
}

/** One line for a message: `AccessDenied (403): Access Denied`. */
export function describeS3Error(err: unknown): string {
  const status = s3Status(err);
  const message = (err as S3ErrorShape | null)?.message;
  return `${s3Code(err)}${status !== undefined ? ` (${status})` : ''}${message && message !== s3Code(err) ? `: ${message}` : ''}`;
}
