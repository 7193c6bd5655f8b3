/**
 * Run in a child process by triton-build.ts: `node <bundle> sagemaker|repository PACKAGE_DIR OUT OPTIONS_JSON`.
 * CDK asks for assets synchronously, and lib/triton writes them with streams; this process does the
 * writing while the synth waits for it.
 */
import { buildSageMakerArtifact } from '../../triton/sagemaker-artifact';
import { writeTritonRepository } from '../../triton/repository';
import type { TritonModelConfigOptions } from '../../triton/types';

async function main(): Promise<void> {
  const [mode, packageDir, out, optionsJson] = process.argv.slice(2);
  const options = JSON.parse(optionsJson ?? '{}') as TritonModelConfigOptions;
  if (mode === 'sagemaker') await buildSageMakerArtifact(packageDir, out, options);
  else if (mode === 'repository') await writeTritonRepository(packageDir, out, options);
  else throw new Error(`unknown mode ${mode}: expected sagemaker or repository`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
