/**
 * What the inference handler's bundle leaves out. onnxruntime-node always: its native binding is loaded
 * by a computed path, and it comes from the layer. The AWS SDK clients that only some functions use
 * (S3 for a registry package, KMS for a KMS trust policy) are more than two thirds of the bundle, so a
 * function that does not use one leaves it out. Each is loaded lazily (lib/registry/package-source.ts,
 * lib/trust/trust-policy.ts), so a function without it never requires it; if its environment were
 * changed by hand to need it, Node would find the Lambda runtime's own copy of the SDK.
 */

/** The clients a function's configuration needs at init. */
export interface InferenceBundleNeeds {
  /** The package is fetched from a registry at init. */
  readonly registry: boolean;
  /** Modules the trust policy's check needs (PackageTrust.modules). */
  readonly trustModules: readonly string[];
}

const OPTIONAL_CLIENTS = ['@aws-sdk/client-s3', '@aws-sdk/client-kms'] as const;

export function inferenceExternalModules(needs: InferenceBundleNeeds): string[] {
  const used = new Set<string>(needs.trustModules);
  if (needs.registry) used.add('@aws-sdk/client-s3');
  return ['onnxruntime-node', ...OPTIONAL_CLIENTS.filter((m) => !used.has(m))];
}
