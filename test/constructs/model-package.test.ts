/** ModelPackage.fromDirectory: what synth accepts and the errors that stop it. */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelPackage } from '../../lib/constructs/model-package';
import { makeTinyMlpPackage, tempDir, type FixturePackage } from '../helpers/fixtures';

let fixture: FixturePackage;

beforeAll(async () => {
  fixture = await makeTinyMlpPackage();
});

/** A copy of the fixture package, changed by `edit`, so that each test breaks its own. */
function copyWith(edit: (dir: string) => void): string {
  const dir = join(tempDir(), 'pkg');
  cpSync(fixture.dir, dir, { recursive: true });
  edit(dir);
  return dir;
}

function editManifest(dir: string, change: (m: Record<string, unknown>) => void): void {
  const path = join(dir, 'modelship.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  change(manifest);
  writeFileSync(path, JSON.stringify(manifest));
}

test('a good package: name, version, sha256 and every file the manifest names, manifest first, then in code-point order', () => {
  // GIVEN a package made by createPackage  WHEN it is read
  const pkg = ModelPackage.fromDirectory(fixture.dir);
  // THEN its identity and files come from the checked manifest
  expect(pkg.name).toBe('tiny-mlp');
  expect(pkg.version).toBe('1.0.0');
  expect(pkg.modelSha256).toMatch(/^[0-9a-f]{64}$/);
  expect(pkg.modelSha256).toBe(pkg.manifest.model.sha256);
  expect(pkg.tarballSha256).toBeUndefined();
  expect(pkg.directory).toBe(fixture.dir);
  expect(pkg.files).toEqual([
    'modelship.json',
    'model.onnx',
    'samples/0.request.json',
    'samples/0.response.json',
    'samples/1.request.json',
    'samples/1.response.json',
  ]);
  expect(pkg.goldenFiles).toEqual([
    'modelship.json',
    'samples/0.request.json',
    'samples/0.response.json',
    'samples/1.request.json',
    'samples/1.response.json',
  ]);
  const sizes = pkg.files.map((f) => readFileSync(join(fixture.dir, f)).length);
  expect(pkg.totalBytes).toBe(sizes.reduce((a, b) => a + b, 0));
});

test('a manifest that breaks the schema is a synth error naming the field', () => {
  const dir = copyWith((d) =>
    editManifest(d, (m) => {
      m.name = 'Not_DNS_Safe';
    }),
  );
  expect(() => ModelPackage.fromDirectory(dir)).toThrow(/modelship\.json is not a valid manifest: name: must be DNS-safe/);
});

test('a model changed after packaging is a synth error giving both sha256', () => {
  // GIVEN a model with one byte flipped but the same size
  const dir = copyWith((d) => {
    const model = readFileSync(join(d, 'model.onnx'));
    model[model.length - 1] ^= 0xff;
    writeFileSync(join(d, 'model.onnx'), model);
  });
  // THEN synth refuses it, with the actual and the recorded hash
  expect(() => ModelPackage.fromDirectory(dir)).toThrow(
    /model\.onnx has sha256 [0-9a-f]{64} but the manifest says [0-9a-f]{64}: the model has been tampered with or changed since it was packaged/,
  );
});

test('a model of another size is a synth error giving both sizes', () => {
  const dir = copyWith((d) => writeFileSync(join(d, 'model.onnx'), Buffer.concat([readFileSync(join(d, 'model.onnx')), Buffer.from([0])])));
  expect(() => ModelPackage.fromDirectory(dir)).toThrow(
    /model\.onnx is \d+ bytes but the manifest says \d+: the model has been changed since it was packaged/,
  );
});

test('a missing golden sample is a synth error naming the file', () => {
  const dir = copyWith((d) => rmSync(join(d, 'samples', '1.response.json')));
  expect(() => ModelPackage.fromDirectory(dir)).toThrow(/samples\/1\.response\.json: a file the manifest names is missing/);
});

test('a directory that does not exist, or holds no manifest, is a synth error', () => {
  expect(() => ModelPackage.fromDirectory(join(tempDir(), 'nowhere'))).toThrow(/nowhere is not a directory/);
  expect(() => ModelPackage.fromDirectory(tempDir())).toThrow(/modelship\.json cannot be read/);
});
