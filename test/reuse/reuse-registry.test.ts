/**
 * The registry round trip of reuse, over HTTP against a local S3 server: publish a base, pull it,
 * fine-tune it, publish the result as a new version, and pull that back, lineage and report included.
 * Publishing a derived package whose base is not in the registry warns, and `list` shows the lineage.
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest } from '../../lib/package/manifest';
import { listRegistry, publishPackage, pullPackage, type RegistryLocation } from '../../lib/registry';
import { finetune, TRAINING_REPORT } from '../../lib/reuse/finetune';
import { tempDir } from '../helpers/fixtures';
import { writeDigitData } from './digit-data';
import { BUCKET, startLocalS3, type LocalS3 } from '../registry/s3-server';

const MODELS = join(__dirname, '..', '..', 'models');
const REGISTRY: RegistryLocation = { bucket: BUCKET, prefix: 'reuse' };
const TIME = () => new Date('2026-05-01T12:00:00.000Z');

let s3: LocalS3;
beforeAll(async () => {
  s3 = await startLocalS3();
});
afterAll(async () => {
  await s3.close();
});

/** 100 training and 200 eval digits of the held-out split, labelled with their digit. */

test('pull a published base, fine-tune it, publish the result as a new version and pull it back', async () => {
  const dir = tempDir();
  const base = await publishPackage({ client: s3.client, registry: REGISTRY, dir: join(MODELS, 'mnist-mlp'), now: TIME });
  expect(base.warnings).toEqual([]);
  await pullPackage({ client: s3.client, registry: REGISTRY, name: 'mnist-mlp', version: '1.0.0', outDir: join(dir, 'base') });

  const tuned = join(dir, 'tuned');
  await finetune({
    base: join(dir, 'base'),
    ...writeDigitData(dir),
    name: 'mnist-mlp',
    version: '1.1.0',
    out: tuned,
    trainLast: 1,
    epochs: 1,
  });
  const published = await publishPackage({ client: s3.client, registry: REGISTRY, dir: tuned, now: TIME });
  expect(published.warnings).toEqual([]);
  expect(published.derivedFrom).toBe('mnist-mlp@1.0.0');

  const back = join(dir, 'back');
  await pullPackage({ client: s3.client, registry: REGISTRY, name: 'mnist-mlp', version: '1.1.0', outDir: back });
  const manifest = readManifest(back);
  expect(manifest.derivedFrom).toEqual({
    name: 'mnist-mlp',
    version: '1.0.0',
    modelSha256: readManifest(join(MODELS, 'mnist-mlp')).model.sha256,
  });
  expect(readFileSync(join(back, TRAINING_REPORT), 'utf8')).toBe(readFileSync(join(tuned, TRAINING_REPORT), 'utf8'));
  expect(readFileSync(join(back, 'model.onnx'))).toEqual(readFileSync(join(tuned, 'model.onnx')));

  const [model] = await listRegistry({ client: s3.client, registry: REGISTRY, name: 'mnist-mlp' });
  expect(model.versions.map((v) => [v.version, v.derivedFrom])).toEqual([
    ['1.0.0', undefined],
    ['1.1.0', 'mnist-mlp@1.0.0'],
  ]);
}, 120_000);

test('publishing a derived package whose base is not in the registry warns, naming the base', async () => {
  const dir = tempDir();
  const tuned = join(dir, 'tuned');
  const base = join(dir, 'base');
  cpSync(join(MODELS, 'mnist-mlp'), base, { recursive: true });
  await finetune({ base, ...writeDigitData(dir), name: 'lonely-mlp', version: '2.0.0', out: tuned, trainLast: 1, epochs: 1 });
  const other: RegistryLocation = { bucket: BUCKET, prefix: 'elsewhere' };
  const published = await publishPackage({ client: s3.client, registry: other, dir: tuned, now: TIME });
  expect(published.warnings).toEqual([
    'lonely-mlp@2.0.0 is derived from mnist-mlp@1.0.0, which s3://models/elsewhere does not hold; publish the base there too to keep its lineage',
  ]);
}, 120_000);
