/**
 * Reads what a package's manifest says about its model from the model itself: the inputs and
 * outputs from onnxruntime's session metadata, and the opset from the ModelProto.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { Reader } from 'protobufjs';
import { datatypeFromOrt } from '../protocol/datatypes';
import { PackageError } from './errors';
import type { TensorSpec } from './manifest';

function toSpec(kind: string, m: InferenceSession.ValueMetadata): TensorSpec {
  if (!m.isTensor) throw new PackageError(`${kind} '${m.name}' is not a tensor; modelship serves tensor inputs and outputs only`);
  const datatype = datatypeFromOrt(m.type);
  if (!datatype) throw new PackageError(`${kind} '${m.name}' has element type ${m.type}, which the v2 protocol cannot carry`);
  // Symbolic dimensions ('batch', 'N') and unknown ones both become -1, v2's mark for a dynamic size.
  const shape = m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
  return { name: m.name, datatype, shape };
}

export function readSignature(session: InferenceSession): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  return {
    inputs: session.inputMetadata.map((m) => toSpec('input', m)),
    outputs: session.outputMetadata.map((m) => toSpec('output', m)),
  };
}

/**
 * The default-domain opset the model imports (ModelProto field 8, OperatorSetIdProto). Only the
 * top-level fields are walked and the graph is skipped, so large models cost no extra copy.
 */
export function readOpset(model: Uint8Array): number {
  const reader = Reader.create(model);
  let opset: number | undefined;
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 !== 8 || (tag & 7) !== 2) {
        reader.skipType(tag & 7);
        continue;
      }
      const end = reader.uint32() + reader.pos;
      let domain = '';
      let version = 0;
      while (reader.pos < end) {
        const t = reader.uint32();
        if (t >>> 3 === 1) domain = reader.string();
        else if (t >>> 3 === 2) version = Number(reader.int64());
        else reader.skipType(t & 7);
      }
      if (domain === '' || domain === 'ai.onnx') opset = version;
    }
  } catch (err) {
    throw new PackageError(`the model is not a valid ONNX ModelProto: ${(err as Error).message}`);
  }
  if (opset === undefined) throw new PackageError('the model imports no default-domain opset; is it an ONNX model?');
  return opset;
}
