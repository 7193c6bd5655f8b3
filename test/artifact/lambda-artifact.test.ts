/**
 * What a deployment would run, run here: the function asset and the onnxruntime layer from cdk.out, laid
 * out as Lambda lays them out (function at /var/task, layer under /opt), under a temp dir that no
 * project node_modules can be reached from. A clean `node` process loads the handler with NODE_PATH as
 * Lambda sets it and answers v2 infer events (REST API and HTTP API) with the package's golden answers.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import { compressPackage } from '../../lib/compress/compress-package';
import { quantizeModel } from '../../lib/compress/quantize';
import { LambdaModel } from '../../lib/constructs/lambda-model';
import { ModelPackage } from '../../lib/constructs/model-package';
import { PackageTrust } from '../../lib/constructs/package-trust';
import { sha256 } from '../../lib/package/hash';
import { signPackage } from '../../lib/trust/sign-package';
import { diskBytes } from '../../lib/constructs/private/sizing';
import { INFERENCE_APART_MODULES } from '../../lib/constructs/private/inference-bundle';
import { compareOutputs, type GoldenResponse } from '../../lib/package/golden';
import { assetDir, environmentUnder, lambdaProcessEnv } from '../../bench/lambda-layout';
import { httpApiEvent, restEvent } from '../contract/fronts';
import { makeTinyMlpPackage } from '../helpers/fixtures';
import { findResources, lambdaFunctions, testApp, type TestApp } from '../constructs/synth-helpers';

const MNIST = join(__dirname, '..', '..', 'models', 'mnist-mlp');
const SIGNING_KEY = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const MiB = 1024 * 1024;

interface Deployed {
  readonly pkg: ModelPackage;
  readonly model: LambdaModel;
  /** Temp root standing in for Lambda's filesystem: <root>/var/task, <root>/opt. */
  readonly root: string;
  readonly functionAsset: string;
  readonly layerAsset: string;
  readonly environment: Record<string, string>;
}

let t: TestApp;
const deployed: Record<string, Deployed> = {};

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

const RUNNER = `
const fs = require('node:fs');
const [eventsFile, outFile] = process.argv.slice(2);
const { handler } = require(process.env.LAMBDA_TASK_ROOT + '/index.js');
const context = { awsRequestId: 'artifact-test', functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, getRemainingTimeInMillis: () => 10000 };
(async () => {
  const results = [];
  for (const event of JSON.parse(fs.readFileSync(eventsFile, 'utf8'))) results.push(await handler(event, context));
  fs.writeFileSync(outFile, JSON.stringify({ results, onnxruntime: require.resolve('onnxruntime-node', { paths: [process.env.LAMBDA_TASK_ROOT] }) }));
})().catch((err) => { console.error(err); process.exit(1); });
`;

/** Runs the deployed handler on `events` in a clean child process, as Lambda would. */
interface Invocation {
  results: Array<{ statusCode: number; body: string; isBase64Encoded: boolean; headers: Record<string, string> }>;
  onnxruntime: string;
}

function invoke(d: Deployed, events: Array<APIGatewayProxyEvent | APIGatewayProxyEventV2>): Invocation {
  const task = join(d.root, 'var', 'task');
  const eventsFile = join(d.root, 'events.json');
  const outFile = join(d.root, 'out.json');
  writeFileSync(eventsFile, JSON.stringify(events));
  rmSync(outFile, { force: true });
  const env = lambdaProcessEnv({ root: d.root, task, environment: environmentUnder(d.environment, task) }, d.pkg.name);
  const child = spawnSync(process.execPath, [join(d.root, 'runner.js'), eventsFile, outFile], {
    cwd: task,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (child.status !== 0) throw new Error(`the handler process failed (${child.status}): ${child.stderr}`);
  return JSON.parse(readFileSync(outFile, 'utf8')) as Invocation;
}

function goldenSample(
  pkg: ModelPackage,
  i = 0,
): { request: Buffer; expected: GoldenResponse; tolerance: ModelPackage['manifest']['samples'][number]['tolerance'] } {
  const sample = pkg.manifest.samples[i];
  return {
    request: readFileSync(join(pkg.directory, sample.request)),
    expected: JSON.parse(readFileSync(join(pkg.directory, sample.response), 'utf8')) as GoldenResponse,
    tolerance: sample.tolerance,
  };
}

beforeAll(async () => {
  t = testApp();
  const packages: Record<string, ModelPackage> = { 'tiny-mlp': ModelPackage.fromDirectory((await makeTinyMlpPackage()).dir) };
  // A signed package, deployed with a trust policy holding its key.
  const signed = await makeTinyMlpPackage(undefined, { name: 'signed-mlp' });
  await signPackage(signed.dir, {
    source: 'test key',
    sign: (data) => Promise.resolve({ sig: sign('sha256', data, SIGNING_KEY.privateKey), keyId: 'test-key' }),
  });
  packages['signed-mlp'] = ModelPackage.fromDirectory(signed.dir);
  if (existsSync(join(MNIST, 'modelship.json'))) {
    packages['mnist-mlp'] = ModelPackage.fromDirectory(MNIST);
    // A compressed package deploys unchanged: int8-dynamic's MatMulInteger runs on the layer's onnxruntime.
    const quantized = join(mkdtempSync(join(tmpdir(), 'modelship-int8-')), 'mnist-mlp-int8');
    await compressPackage('int8-dynamic', { base: MNIST, out: quantized, name: 'mnist-mlp-int8', latencyBudgetMs: 5 }, (c) =>
      quantizeModel(c, 'int8-dynamic'),
    );
    packages['mnist-mlp-int8'] = ModelPackage.fromDirectory(quantized);
  }

  const models = Object.entries(packages)
    .map(([name, pkg]) => ({ name, pkg, stack: t.stack(`Artifact${name.replace(/-/g, '')}`) }))
    .map((m) => ({
      ...m,
      model: new LambdaModel(m.stack, 'Model', {
        modelPackage: m.pkg,
        trust:
          m.name === 'signed-mlp'
            ? PackageTrust.publicKey(SIGNING_KEY.publicKey.export({ type: 'spki', format: 'pem' }).toString())
            : undefined,
      }),
    }));
  for (const { name, pkg, stack, model } of models) {
    const template = Template.fromStack(stack);
    const fn = lambdaFunctions(template).find((f) => f.Properties.Environment.Variables.MODEL_DIR)!;
    const layer = findResources(template, 'AWS::Lambda::LayerVersion');
    const layerContent = Object.values(layer)[0].Properties.Content as { S3Key: string };
    const root = mkdtempSync(join(tmpdir(), 'modelship-lambda-'));
    const d: Deployed = {
      pkg,
      model,
      root,
      functionAsset: assetDir(t.outdir, fn.Properties.Code),
      layerAsset: assetDir(t.outdir, layerContent),
      environment: fn.Properties.Environment.Variables,
    };
    // Lambda unpacks the function zip into /var/task and each layer zip into /opt.
    cpSync(d.functionAsset, join(root, 'var', 'task'), { recursive: true });
    cpSync(d.layerAsset, join(root, 'opt'), { recursive: true });
    writeFileSync(join(root, 'runner.js'), RUNNER);
    deployed[name] = d;
  }
});

afterAll(() => {
  for (const d of Object.values(deployed)) rmSync(d.root, { recursive: true, force: true });
  t.cleanup();
});

describe('the layout Lambda gets', () => {
  test("the only node_modules reachable from /var/task, other than through NODE_PATH, is the asset's own", () => {
    const d = deployed['tiny-mlp'];
    const task = join(d.root, 'var', 'task');
    expect(readdirSync(join(task, 'node_modules')).sort()).toEqual([...INFERENCE_APART_MODULES].sort());
    for (let dir = dirname(task); dirname(dir) !== dir; dir = dirname(dir)) {
      expect(existsSync(join(dir, 'node_modules'))).toBe(false);
    }
    expect(existsSync(join(d.root, 'node_modules'))).toBe(false);
  });

  test('the function asset: the bundle, the modules bundled apart, and the package files under model/, nothing else', () => {
    const d = deployed['tiny-mlp'];
    const apart = INFERENCE_APART_MODULES.map((m) => `node_modules/${m}/index.js`);
    expect(files(d.functionAsset)).toEqual(['index.js', ...apart, ...d.pkg.files.map((f) => `model/${f}`)].sort());
    const bundle = readFileSync(join(d.functionAsset, 'index.js'), 'utf8');
    // onnxruntime-node is required at run time, never bundled; the modules apart are required, not inlined.
    expect(bundle).toMatch(/require\("onnxruntime-node"\)/);
    expect(bundle).not.toMatch(/onnxruntime_binding\.node/);
    for (const m of INFERENCE_APART_MODULES) expect(bundle).toContain(`require("${m}")`);
    // One of zod's own issue codes: in its module apart, not in the handler's bundle.
    expect(bundle).not.toContain('invalid_union_discriminator');
    expect(readFileSync(join(d.functionAsset, 'node_modules', 'zod', 'index.js'), 'utf8')).toContain('invalid_union_discriminator');
    for (const f of d.pkg.files) expect(readFileSync(join(d.functionAsset, 'model', f))).toEqual(readFileSync(join(d.pkg.directory, f)));
  });

  test('the modules bundled apart work where the handler finds them: tar-stream packs and unpacks, zod parses', () => {
    const d = deployed['tiny-mlp'];
    const task = join(d.root, 'var', 'task');
    // Resolved from /var/task as the bundle's own require is, in a clean process with Lambda's environment.
    const script = `
      const from = require('node:module').createRequire(process.env.LAMBDA_TASK_ROOT + '/index.js');
      const tar = from('tar-stream');
      const { z } = from('zod');
      const pack = tar.pack();
      pack.entry({ name: 'model/modelship.json' }, '{"name":"x"}');
      pack.finalize();
      const extract = tar.extract();
      const seen = [];
      extract.on('entry', (header, stream, next) => {
        let text = '';
        stream.on('data', (b) => (text += b));
        stream.on('end', () => { seen.push([header.name, z.object({ name: z.string() }).parse(JSON.parse(text)).name]); next(); });
      });
      extract.on('finish', () => process.stdout.write(JSON.stringify({ seen, paths: [from.resolve('tar-stream'), from.resolve('zod')] })));
      pack.pipe(extract);
    `;
    const env = lambdaProcessEnv({ root: d.root, task, environment: environmentUnder(d.environment, task) }, d.pkg.name);
    const child = spawnSync(process.execPath, ['-e', script], { cwd: task, env, encoding: 'utf8', timeout: 30_000 });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({
      seen: [['model/modelship.json', 'x']],
      paths: [join(task, 'node_modules', 'tar-stream', 'index.js'), join(task, 'node_modules', 'zod', 'index.js')],
    });
  });

  test('the layer: onnxruntime-node and onnxruntime-common, JavaScript and linux/x64 binaries only', () => {
    const layer = files(deployed['tiny-mlp'].layerAsset);
    expect(layer.every((f) => /^nodejs\/node_modules\/onnxruntime-(node|common)\//.test(f))).toBe(true);
    const binaries = layer.filter((f) => f.includes('/bin/'));
    expect(binaries).toEqual([
      'nodejs/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
      'nodejs/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
    ]);
    const others = layer.filter((f) => !f.includes('/bin/'));
    expect(others.every((f) => /\.js$|\/package\.json$/.test(f))).toBe(true);
    expect(others).toEqual(
      expect.arrayContaining([
        'nodejs/node_modules/onnxruntime-node/dist/index.js',
        'nodejs/node_modules/onnxruntime-common/dist/cjs/index.js',
      ]),
    );
  });
});

test('the int8-dynamic package makes a smaller function asset than its fp32 base, and the same layer', () => {
  if (!deployed['mnist-mlp-int8']) return;
  const base = deployed['mnist-mlp'];
  const q = deployed['mnist-mlp-int8'];
  expect(q.pkg.totalBytes).toBeLessThan(base.pkg.totalBytes * 0.3);
  expect(diskBytes(base.functionAsset) - diskBytes(q.functionAsset)).toBe(base.pkg.totalBytes - q.pkg.totalBytes);
  expect(diskBytes(q.layerAsset)).toBe(diskBytes(base.layerAsset));
  expect(q.model.memorySize).toBeLessThanOrEqual(base.model.memorySize);
});

describe.each(['tiny-mlp', ...(existsSync(join(MNIST, 'modelship.json')) ? ['mnist-mlp', 'mnist-mlp-int8'] : [])])(
  '%s as deployed',
  (name) => {
    test('function plus layer, unzipped, is measured, and within 60 MB', () => {
      const d = deployed[name];
      const measured = diskBytes(d.functionAsset) + diskBytes(d.layerAsset);
      expect(d.model.unzippedBytes).toBe(measured);
      expect(measured).toBeLessThan(60 * MiB);
      expect(measured).toBeGreaterThan(d.model.layer.unzippedBytes + d.pkg.totalBytes);
    });

    test('answers the golden sample through a REST API event and an HTTP API event, with onnxruntime from the layer', () => {
      const d = deployed[name];
      const { request, expected, tolerance } = goldenSample(d.pkg);
      const path = `/v2/models/${name}/infer`;
      const headers = { 'content-type': 'application/json' };
      const { results, onnxruntime } = invoke(d, [
        restEvent({ method: 'POST', path, headers, body: request }),
        httpApiEvent({ method: 'POST', path: `/v2/models/${name}/versions/${d.pkg.version}/infer`, headers, body: request }),
        restEvent({ method: 'GET', path: `/v2/models/${name}`, headers: {}, body: Buffer.alloc(0) }),
      ]);
      expect(onnxruntime).toBe(join(d.root, 'opt', 'nodejs', 'node_modules', 'onnxruntime-node', 'dist', 'index.js'));
      for (const result of results.slice(0, 2)) {
        expect(result.statusCode).toBe(200);
        expect(result.isBase64Encoded).toBe(false);
        const body = JSON.parse(result.body) as GoldenResponse & { model_name: string; model_version: string };
        expect(body).toMatchObject({ model_name: name, model_version: d.pkg.version });
        expect(compareOutputs(expected.outputs, body.outputs, tolerance)).toEqual([]);
      }
      expect(results[2].statusCode).toBe(200);
      expect(JSON.parse(results[2].body)).toMatchObject({ name, versions: [d.pkg.version], platform: 'onnxruntime_onnx' });
    });
  },
);

describe('a signed package deployed with a trust policy', () => {
  const inferEvent = (d: Deployed) =>
    restEvent({
      method: 'POST',
      path: '/v2/models/signed-mlp/infer',
      headers: { 'content-type': 'application/json' },
      body: goldenSample(d.pkg).request,
    });

  test('the function checks the signature at init, and serves', () => {
    const d = deployed['signed-mlp'];
    expect(d.environment.MODEL_TRUST_PUBLIC_KEYS).toContain('-----BEGIN PUBLIC KEY-----');
    expect(files(d.functionAsset)).toContain('model/signature.json');
    const { results } = invoke(d, [inferEvent(d)]);
    expect(results[0].statusCode).toBe(200);
  });

  test('one byte of the model changed, with the manifest rewritten to its new sha256, fails the init before the session is created', () => {
    // GIVEN the deployed layout, its model altered by one byte and its manifest's hash recomputed to match
    const d = deployed['signed-mlp'];
    const altered: Deployed = { ...d, root: mkdtempSync(join(tmpdir(), 'modelship-lambda-')) };
    cpSync(d.root, altered.root, { recursive: true });
    const modelDir = join(altered.root, 'var', 'task', 'model');
    const model = readFileSync(join(modelDir, 'model.onnx'));
    model[model.length - 2] ^= 0x01;
    writeFileSync(join(modelDir, 'model.onnx'), model);
    const manifest = JSON.parse(readFileSync(join(modelDir, 'modelship.json'), 'utf8')) as { model: { sha256: string } };
    manifest.model.sha256 = sha256(model);
    writeFileSync(join(modelDir, 'modelship.json'), JSON.stringify(manifest));
    try {
      // WHEN Lambda initializes it THEN the init fails on the signature, naming the manifest the attacker rewrote
      expect(() => invoke(altered, [inferEvent(altered)])).toThrow(
        /SignatureError: .*modelship\.json: digest check failed: sha256 [0-9a-f]{64}, but the signature says/,
      );
    } finally {
      rmSync(altered.root, { recursive: true, force: true });
    }
  });
});
