/** Checks on what names a registry object: they throw early, naming the bad value. Tokens are refused: keys and ARNs are built from these. */
import { Token } from 'aws-cdk-lib';
import valid from 'semver/functions/valid';
import { SHA256_HEX } from '../../package/hash';

export function checkSemver(version: string): void {
  if (Token.isUnresolved(version) || valid(version) !== version) {
    throw new RangeError(`version "${version}" is not a semantic version such as 1.0.0`);
  }
}

export function checkSha256(what: string, sha256: string): void {
  if (Token.isUnresolved(sha256) || !SHA256_HEX.test(sha256)) {
    throw new RangeError(
      `${what} must be 64 lower-case hex digits (the package tarball's SHA-256, as \`modelship publish\` prints it); got "${sha256}"`,
    );
  }
}
