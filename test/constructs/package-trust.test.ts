/**
 * LambdaModel's `trust`: the environment that makes the function and its pre-traffic hook check the
 * package's signature at init, the signature shipped in both assets, and for a KMS key kms:Verify on
 * that one key for each of the two roles, and nothing more.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { LambdaModel } from '../../lib/constructs/lambda-model';
import { ModelPackage } from '../../lib/constructs/model-package';
import { PackageTrust } from '../../lib/constructs/package-trust';
import { generateLocalKeyPair, localSigner } from '../../lib/trust/local-keys';
import { signPackage } from '../../lib/trust/sign-package';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { findResources, lambdaFunctions, projectContext, roleStatements, testApp, type TestApp } from './synth-helpers';

let t: TestApp;
let signed: ModelPackage;
let unsigned: ModelPackage;
let publicKeyPem: string;
let byKey: Template;
let byKms: Template;

beforeAll(async () => {
  t = testApp();
  const work = tempDir();
  const pair = generateLocalKeyPair('ecdsa-p256');
  publicKeyPem = pair.publicKeyPem;
  writeFileSync(join(work, 'k.pem'), pair.privateKeyPem);
  const pkg = await makeTinyMlpPackage(work);
  await signPackage(pkg.dir, await localSigner(join(work, 'k.pem')));
  signed = ModelPackage.fromDirectory(pkg.dir);
  unsigned = ModelPackage.fromDirectory((await makeTinyMlpPackage(tempDir(), { seed: 2 })).dir);

  const keyStack = t.stack('ByKey');
  new LambdaModel(keyStack, 'Model', { modelPackage: signed, trust: PackageTrust.publicKey(publicKeyPem) });
  const kmsStack = t.stack('ByKms');
  const key = new kms.Key(kmsStack, 'SigningKey', { keySpec: kms.KeySpec.ECC_NIST_P256, keyUsage: kms.KeyUsage.SIGN_VERIFY });
  new LambdaModel(kmsStack, 'Model', { modelPackage: signed, trust: PackageTrust.kmsKey(key) });
  byKey = Template.fromStack(keyStack);
  byKms = Template.fromStack(kmsStack);
});
afterAll(() => t.cleanup());

function functionIds(template: Template): { model: string; hook: string } {
  const ids = Object.keys(template.findResources('AWS::Lambda::Function'));
  return { model: ids.find((id) => !id.includes('PreTrafficHook'))!, hook: ids.find((id) => id.includes('PreTrafficHook'))! };
}

test('a public key goes into the environment of the function and of its hook, and the signature into both assets', () => {
  const fns = lambdaFunctions(byKey);
  expect(fns).toHaveLength(2);
  for (const fn of fns) expect(fn.Properties.Environment.Variables.MODEL_TRUST_PUBLIC_KEYS).toBe(publicKeyPem.trim());
  expect(signed.files).toContain('signature.json');
  expect(signed.goldenFiles).toContain('signature.json');
  // No KMS permission without a KMS key.
  const kmsStatements = Object.values(findResources(byKey, 'AWS::IAM::Policy')).filter((p) => JSON.stringify(p).includes('kms:'));
  expect(kmsStatements).toEqual([]);
});

test('a KMS key: its ARN in both environments, and kms:Verify on that key alone for each role', () => {
  const keyId = Object.keys(byKms.findResources('AWS::KMS::Key'))[0];
  const arn = { 'Fn::GetAtt': [keyId, 'Arn'] };
  byKms.resourceCountIs('AWS::Lambda::Function', 2);
  byKms.allResourcesProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ MODEL_TRUST_KMS_KEYS: arn }) } });
  const fns = byKms.findResources('AWS::Lambda::Function');
  const ids = functionIds(byKms);
  for (const id of [ids.model, ids.hook]) {
    const role = (fns[id].Properties as { Role: { 'Fn::GetAtt': [string, string] } }).Role['Fn::GetAtt'][0];
    const kmsStatements = roleStatements(byKms, role).filter((s) => JSON.stringify(s.Action).includes('kms:'));
    expect(kmsStatements).toEqual([{ Action: 'kms:Verify', Effect: 'Allow', Resource: arn }]);
  }
});

test('trust on an unsigned package fails the synth, saying what to run', () => {
  const stack = new Stack(new App({ context: projectContext() }), 'Unsigned');
  expect(() => new LambdaModel(stack, 'Model', { modelPackage: unsigned, trust: PackageTrust.publicKey(publicKeyPem) })).toThrow(
    `LambdaModel tiny-mlp 1.0.0: trust is set, but ${unsigned.directory} has no signature.json; sign it with modelship sign`,
  );
});

test('a PEM that is not an accepted public key is refused at synth', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  expect(() => PackageTrust.publicKey(rsa)).toThrow(
    'PackageTrust.publicKey key 1 is a rsa key; package signatures use ECDSA P-256 or Ed25519 keys',
  );
  expect(() => PackageTrust.publicKey('nonsense')).toThrow(/^PackageTrust\.publicKey key 1 is not a public key in PEM form/);
});

describe('the inference bundle holds the KMS client only when the policy is a KMS key', () => {
  function bundle(template: Template): string {
    const code = lambdaFunctions(template).find((f) => f.Properties.Environment.Variables.MODEL_DIR)!.Properties.Code;
    return readFileSync(join(t.outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`, 'index.js'), 'utf8');
  }

  test('a public key: the KMS and S3 clients are left out, and the bundle is at most 300 KB', () => {
    const text = bundle(byKey);
    expect(text).toContain('require("@aws-sdk/client-kms")');
    expect(text).toContain('require("@aws-sdk/client-s3")');
    expect(text).not.toContain('"VerifyCommand"');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(300_000);
  });

  test('a KMS key: the KMS client is bundled, the S3 client still left out', () => {
    const text = bundle(byKms);
    expect(text).not.toContain('require("@aws-sdk/client-kms")');
    expect(text).toContain('"VerifyCommand"');
    expect(text).toContain('require("@aws-sdk/client-s3")');
  });
});
