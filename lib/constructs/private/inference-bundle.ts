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

/**
 * Modules the handler requires on some INIT paths only, each bundled apart into the asset's
 * `node_modules/<name>/index.js` (HandlerBundlingOptions.apart), where Node finds the handler's `require`:
 * zod checks a package that synth has not (a registry package, a signature's envelope); tar-stream unpacks
 * a registry tarball. A function whose package is in its asset never loads them, and in one bundle V8
 * would still compile their 110 KB at every cold start. Only whole packages: a subpath such as
 * `semver/functions/rcompare` would not be found under them.
 */
export const INFERENCE_APART_MODULES: readonly string[] = ['zod', 'tar-stream'];
