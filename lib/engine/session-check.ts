import type { InferenceSession } from 'onnxruntime-node';
import type { Manifest, TensorSpec } from '../package/manifest';
import { datatypeFromOrt } from '../protocol/datatypes';
import { PackageError } from '../package/errors';

type ValueMetadata = InferenceSession.ValueMetadata;

function check(kind: 'input' | 'output', specs: readonly TensorSpec[], actual: readonly ValueMetadata[], source: string): void {
  const byName = new Map(actual.map((m) => [m.name, m]));
  if (actual.length !== specs.length) {
    throw new PackageError(
      `${source}: the model has ${actual.length} ${kind}s (${actual.map((m) => m.name).join(', ')}) but the manifest lists ${specs.length}`,
    );
  }
  for (const spec of specs) {
    const m = byName.get(spec.name);
    if (!m) throw new PackageError(`${source}: the manifest's ${kind} '${spec.name}' is not in the model`);
    if (!m.isTensor) throw new PackageError(`${source}: ${kind} '${spec.name}' is not a tensor`);
    const datatype = datatypeFromOrt(m.type);
    if (datatype !== spec.datatype) {
      throw new PackageError(`${source}: ${kind} '${spec.name}' is ${m.type} in the model but ${spec.datatype} in the manifest`);
    }
  }
}

/** A manifest that disagrees with its model would let bad requests reach onnxruntime: refuse it at load. */
export function checkSessionMatchesManifest(session: InferenceSession, manifest: Manifest, source: string): void {
  check('input', manifest.inputs, session.inputMetadata, source);
  check('output', manifest.outputs, session.outputMetadata, source);
}
