/**
 * Builds Triton assets at synth: the SageMaker model.tar.gz and the Triton model repository directory,
 * both written by lib/triton. CDK's local bundling is synchronous and lib/triton is not, so the work runs
 * in a child Node.js process, from lib/triton bundled by esbuild (no network, no Docker).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BundlingOptions, BundlingOutput, DockerImage } from 'aws-cdk-lib';
import { buildSync } from 'esbuild';
import type { TritonModelConfigOptions } from '../../triton/types';
import { ownEntry } from './project-paths';

/** The file name of the SageMaker artifact, as SageMaker expects it. */
export const SAGEMAKER_ARTIFACT_FILE = 'model.tar.gz';

let bundled: string | undefined;

function builder(): string {
  if (bundled !== undefined && existsSync(bundled)) return bundled;
  const entry = ownEntry(join('lib', 'constructs', 'private'), 'triton-build-main', "modelship's Triton builder");
  const dir = mkdtempSync(join(tmpdir(), 'modelship-triton-build-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const outfile = join(dir, 'triton-build.js');
  buildSync({ entryPoints: [entry], bundle: true, platform: 'node', target: 'node20', outfile, logLevel: 'warning' });
  return (bundled = outfile);
}

function run(mode: 'sagemaker' | 'repository', packageDir: string, out: string, options: TritonModelConfigOptions): void {
  execFileSync(process.execPath, [builder(), mode, packageDir, out, JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Bundling that writes `<outputDir>/model.tar.gz` for SageMaker, locally. The image is never pulled:
 * local bundling always succeeds or throws.
 */
export function sageMakerArtifactBundling(packageDir: string, options: TritonModelConfigOptions): BundlingOptions {
  return {
    image: NEVER_PULLED,
    // Part of the key aws-cdk-lib caches bundled output by in a process: each config its own output.
    environment: { MODELSHIP_TRITON_BUILD: `sagemaker ${JSON.stringify(options)}` },
    outputType: BundlingOutput.SINGLE_FILE,
    local: {
      tryBundle: (outputDir) => {
        run('sagemaker', packageDir, join(outputDir, SAGEMAKER_ARTIFACT_FILE), options);
        return true;
      },
    },
  };
}

/** Bundling that writes the Triton repository (`<name>/config.pbtxt`, `<name>/1/model.onnx`) into `<outputDir>`, locally. */
export function tritonRepositoryBundling(packageDir: string, options: TritonModelConfigOptions): BundlingOptions {
  return {
    image: NEVER_PULLED,
    environment: { MODELSHIP_TRITON_BUILD: `repository ${JSON.stringify(options)}` },
    outputType: BundlingOutput.NOT_ARCHIVED,
    local: {
      tryBundle: (outputDir) => {
        run('repository', packageDir, outputDir, { ...options, overwrite: true } as TritonModelConfigOptions);
        return true;
      },
    },
  };
}

/** Named because BundlingOptions requires an image; local bundling means Docker never sees it. */
const NEVER_PULLED = DockerImage.fromRegistry('modelship/local-bundling-only');
