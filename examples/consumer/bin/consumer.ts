#!/usr/bin/env node
/**
 * The consumer app: `npx cdk synth -c registryBucket=... -c tarballSha256=...` (defaults in cdk.json).
 * Env-agnostic, so synth needs no AWS credentials.
 */
import { App } from 'aws-cdk-lib';
import { ConsumerStack } from '../lib/consumer-stack';

const app = new App();
const context = (key: string): string => {
  const value: unknown = app.node.tryGetContext(key);
  // -c values arrive as strings; cdk.json may hold numbers.
  const text = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  if (text === '') throw new Error(`context "${key}" is not set; pass -c ${key}=... or set it in cdk.json`);
  return text;
};

new ConsumerStack(app, 'ModelConsumer', {
  registryBucket: context('registryBucket'),
  registryPrefix: app.node.tryGetContext('registryPrefix') as string | undefined,
  modelName: context('modelName'),
  modelVersion: context('modelVersion'),
  tarballSha256: context('tarballSha256'),
  modelBytes: Number(app.node.tryGetContext('modelBytes') ?? 0),
});
app.synth();
