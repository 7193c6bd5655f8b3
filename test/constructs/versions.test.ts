/**
 * Every change to a package makes a new Lambda version (so CodeDeploy starts a canary); an unchanged
 * package, wherever it sits on disk, keeps the version it had.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { LambdaModel } from '../../lib/constructs/lambda-model';
import { ModelPackage } from '../../lib/constructs/model-package';
import { sha256 } from '../../lib/package/hash';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { lambdaFunctions, testApp, type TestApp } from './synth-helpers';
import type { Manifest } from '../../lib/package/manifest';

interface Synth {
  readonly version: string;
  readonly code: unknown;
  readonly hookTarget: unknown;
}

let t: TestApp;
/** A second app, with its own assembly: its assets are bundled afresh, not taken from the first's cache. */
let t2: TestApp;
const synth: Record<'original' | 'again' | 'copy' | 'oneByte', Synth> = {} as never;

/** The version's logical id, the function's code location and what the hook tests, for one stack. */
function read(template: Template): Synth {
  const versions = Object.keys(template.findResources('AWS::Lambda::Version'));
  expect(versions).toHaveLength(1);
  const functions = lambdaFunctions(template);
  const model = functions.find((f) => f.Properties.Environment.Variables.MODEL_DIR)!;
  const hook = functions.find((f) => f.Properties.Environment.Variables.TARGET_FUNCTION_ARN)!;
  return { version: versions[0], code: model.Properties.Code, hookTarget: hook.Properties.Environment.Variables.TARGET_FUNCTION_ARN };
}

beforeAll(async () => {
  t = testApp();
  t2 = testApp();
  const original = (await makeTinyMlpPackage()).dir;
  // The same package at another path.
  const copy = join(tempDir(), 'copy');
  cpSync(original, copy, { recursive: true });
  // The same package with one byte of the model changed, repackaged (size and sha256 recorded again).
  const oneByte = join(tempDir(), 'one-byte');
  cpSync(original, oneByte, { recursive: true });
  const model = readFileSync(join(oneByte, 'model.onnx'));
  model[model.length - 1] ^= 0x01;
  writeFileSync(join(oneByte, 'model.onnx'), model);
  const manifest = JSON.parse(readFileSync(join(oneByte, 'modelship.json'), 'utf8')) as Manifest;
  writeFileSync(join(oneByte, 'modelship.json'), JSON.stringify({ ...manifest, model: { ...manifest.model, sha256: sha256(model) } }));

  const stacks = {
    original: t.stack('Original'),
    again: t2.stack('Again'),
    copy: t.stack('Copy'),
    oneByte: t.stack('OneByte'),
  };
  new LambdaModel(stacks.original, 'Model', { modelPackage: ModelPackage.fromDirectory(original) });
  new LambdaModel(stacks.again, 'Model', { modelPackage: ModelPackage.fromDirectory(original) });
  new LambdaModel(stacks.copy, 'Model', { modelPackage: ModelPackage.fromDirectory(copy) });
  new LambdaModel(stacks.oneByte, 'Model', { modelPackage: ModelPackage.fromDirectory(oneByte) });
  for (const [name, stack] of Object.entries(stacks)) synth[name as keyof typeof synth] = read(Template.fromStack(stack));
});

afterAll(() => {
  t.cleanup();
  t2.cleanup();
});

test('one byte of the model changed: a new version logical id, new code, and the hook tests the new version', () => {
  expect(synth.oneByte.version).not.toBe(synth.original.version);
  expect(synth.oneByte.code).not.toEqual(synth.original.code);
  expect(synth.oneByte.hookTarget).toEqual({ Ref: synth.oneByte.version });
});

test('nothing changed: the same version logical id and code, bundled again in another app', () => {
  expect(synth.again).toEqual(synth.original);
  expect(synth.original.hookTarget).toEqual({ Ref: synth.original.version });
});

test('the same package from another directory: still the same version', () => {
  expect(synth.copy).toEqual(synth.original);
});
