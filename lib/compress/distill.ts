/**
 * `modelship distill`: a small student (student.ts) learns the teacher's softened outputs. The teacher
 * answers every --data example through the serving engine; its probabilities p become
 * softmax(log p / T), and the student, whose classifier divides its logits by T while it trains,
 * fits them with cross-entropy. Labels are not needed, so unlabelled inputs serve as well as labelled
 * ones. The packaged student has T = 1, the teacher's own scale.
 */
import { InferenceEngine } from '../engine/engine';
import { decodePlainModel, encodePlainModel, floatValues, rawTensor, ONNX_TYPE } from '../onnx/plain-model';
import type { Tensor } from '../protocol/types';
import { readDataset, type Dataset } from '../reuse/training-data';
import type { CompressContext, Compressed } from './compress-package';
import { CompressionError } from './errors';
import { retrain, type RetrainSettings } from './retrain';
import { buildStudent, parseStudentSpec, TEMPERATURE } from './student';

/** Training settings default to 10 epochs at learning rate 3e-3. */
export interface DistillOptions extends RetrainSettings {
  /** The student's architecture: dense:32, conv:8,16;dense:32... */
  readonly student: string;
  /** Examples the teacher answers and the student learns from; labels, if any, are ignored. */
  readonly data: string;
  /** Softens both distributions. @default 2 */
  readonly temperature?: number;
}

/** The teacher's probabilities for every example, softened: softmax(log p / T), row by row. */
async function softenedTeacher(teacher: InferenceEngine, data: Dataset, classes: number, temperature: number): Promise<Float32Array> {
  const out = new Float32Array(data.count * classes);
  const spec = teacher.manifest.inputs[0];
  const all = data.inputs.get(spec.name)!;
  const size = all.length / data.count;
  for (let start = 0; start < data.count; start += 256) {
    const rows = Math.min(256, data.count - start);
    const input: Tensor = {
      name: spec.name,
      datatype: spec.datatype,
      shape: [rows, ...spec.shape.slice(1)],
      data: all.subarray(start * size, (start + rows) * size),
    };
    const result = await teacher.infer({
      inputs: [input],
      outputs: [{ name: teacher.manifest.outputs[0].name, binary: false }],
      sagemaker: false,
    });
    const p = result.outputs[0].data as Float32Array;
    for (let r = 0; r < rows; r++) {
      const logits = Array.from(p.subarray(r * classes, (r + 1) * classes), (v) => Math.log(Math.max(v, 1e-12)) / temperature);
      const max = Math.max(...logits);
      const exp = logits.map((v) => Math.exp(v - max));
      const sum = exp.reduce((a, b) => a + b, 0);
      exp.forEach((v, c) => (out[(start + r) * classes + c] = v / sum));
    }
  }
  return out;
}

/** The trained student with its temperature set back to 1. */
function atUnitTemperature(bytes: Uint8Array): Uint8Array {
  const model = decodePlainModel(bytes);
  const i = model.graph.initializer.findIndex((t) => t.name === TEMPERATURE);
  if (floatValues(model.graph.initializer[i]).length !== 1) throw new Error('the student has no scalar temperature');
  model.graph.initializer[i] = rawTensor(TEMPERATURE, [], ONNX_TYPE.FLOAT, Float32Array.of(1));
  return encodePlainModel(model);
}

export async function distillModel(context: CompressContext, o: DistillOptions): Promise<Compressed> {
  if (!context.evalData) throw new CompressionError('distill measures the student against held-out data: give --eval');
  const temperature = o.temperature ?? 2;
  if (!(temperature > 0) || !Number.isFinite(temperature))
    throw new CompressionError(`--temperature ${temperature}: give a positive number, such as 4`);
  const last = decodePlainModel(context.bytes).graph.node.find((n) => n.output.includes(context.manifest.outputs[0].name));
  if (last?.opType !== 'Softmax')
    throw new CompressionError(
      `distill learns from a classifier's probabilities; ${context.manifest.name}'s output is made by ${last?.opType ?? 'no node'}, not Softmax`,
    );
  const spec = parseStudentSpec(o.student);
  const seed = o.seed ?? 42;
  const student = buildStudent(context.manifest, spec, temperature, seed);
  const classes = context.manifest.outputs[0].shape[1];
  const inputs = await readDataset(o.data, { inputs: context.manifest.inputs, task: 'unlabelled', classes });
  const teacher = await InferenceEngine.load(context.baseDir);
  let targets: Float32Array;
  try {
    targets = await softenedTeacher(teacher, inputs, classes, temperature);
  } finally {
    await teacher.release();
  }
  // A fresh student learns from scratch: more epochs and a larger step than a fine-tune's defaults.
  const settings = { ...o, epochs: o.epochs ?? 10, learningRate: o.learningRate ?? 3e-3 };
  const trained = await retrain(
    student,
    `${context.manifest.name} student`,
    { ...inputs, targets },
    context.evalData,
    classes,
    settings,
    true,
  );
  return {
    bytes: atUnitTemperature(trained.bytes),
    parameters: { student: o.student, temperature, ...trained.settings, dataSha256: inputs.sha256, examples: inputs.count },
    details: { history: trained.result.history },
  };
}
