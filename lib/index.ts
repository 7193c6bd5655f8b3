// Public API of modelship. CDK apps that only deploy can import from './constructs' instead, which
// never loads onnxruntime-node.
export * from './constructs';
export { type EngineOptions, InferenceEngine } from './engine/engine';
export { createPackage, type CreatePackageOptions } from './package/create';
export { readManifest, type Manifest, type TensorSpec, type Tolerance, type ToleranceByDatatype } from './package/manifest';
export { verifyPackage, type VerifyReport } from './package/verify';
export { type HttpRequest, type HttpResponse } from './router/http';
export { inferResponse, type LoadFailure, ModelRouter, type RouteEvent, type RouterOptions } from './router/router';
export * from './client';
export * from './registry';
export { SignatureError } from './trust/errors';
export { kmsSigner, kmsVerifier } from './trust/kms-keys';
export { generateLocalKeyPair, localSigner, localVerifier, type Signer, type Verifier } from './trust/local-keys';
export { signPackage, type SignResult } from './trust/sign-package';
export { trustPolicy, type TrustOptions, type TrustPolicy } from './trust/trust-policy';
export { type SignatureCheckOptions, type TrustedPackage, verifyPackageSignature } from './trust/verify-signature';
