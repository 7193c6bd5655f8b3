/**
 * Training and eval data for `modelship finetune`, in the two forms users have: JSON Lines, one
 * example per line ({"input": [...], "label": 3}, {"inputs": {"a": [...]}, "label": "cat"} or
 * {"input": [...], "target": [...]}), and CSV of flat feature vectors with a header row. Every
 * example is checked against the model's input signature, and an error names the file, the line and
 * what is wrong.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseCsv } from 'csv-parse/sync';
import { ConversionError } from '../convert/errors';
import { sha256 } from '../package/hash';
import type { TensorSpec } from '../package/manifest';

export type TaskKind = 'classification' | 'regression';

export interface DataSignature {
  readonly inputs: readonly TensorSpec[];
  /** 'unlabelled': inputs only (a distillation student's data); any label or target is ignored. */
  readonly task: TaskKind | 'unlabelled';
  /** Classes, for classification: labels by index, or just the count. */
  readonly classes: number;
  readonly labels?: readonly string[];
  /** Values per example of the regression target. */
  readonly targetSize?: number;
}

export interface Dataset {
  readonly file: string;
  readonly sha256: string;
  readonly count: number;
  /** Per model input, every example's values back to back (row-major, batch first). */
  readonly inputs: ReadonlyMap<string, Float32Array | Int32Array>;
  readonly labels?: Int32Array;
  readonly targets?: Float32Array;
}

/** A data file's problem, named by file and line. */
export class DataError extends ConversionError {}

function exampleSize(spec: TensorSpec, file: string): number {
  const dims = spec.shape.slice(1);
  if (dims.some((d) => d < 0))
    throw new DataError(`${file}: input '${spec.name}' has a dynamic dimension besides the batch; finetune needs fixed example shapes`);
  return dims.reduce((a, b) => a * b, 1);
}

type Row = { input?: unknown; inputs?: unknown; label?: unknown; target?: unknown };

class Builder {
  private readonly values = new Map<string, number[]>();
  private readonly labels: number[] = [];
  private readonly targets: number[] = [];
  count = 0;

  constructor(
    private readonly signature: DataSignature,
    private readonly file: string,
  ) {
    for (const spec of signature.inputs) this.values.set(spec.name, []);
  }

  private fail(line: number, what: string): DataError {
    return new DataError(`${this.file}:${line}: ${what}`);
  }

  private numbers(value: unknown, spec: TensorSpec, line: number): number[] {
    const flat = Array.isArray(value) ? (value.flat(Infinity) as unknown[]) : [value];
    const size = exampleSize(spec, this.file);
    if (flat.length !== size) {
      throw this.fail(
        line,
        `input '${spec.name}' has ${flat.length} value(s); the model takes ${size} (shape [${spec.shape.slice(1).join(', ')}])`,
      );
    }
    const integer = spec.datatype.startsWith('INT') || spec.datatype.startsWith('UINT');
    flat.forEach((v, i) => {
      if (typeof v !== 'number') throw this.fail(line, `input '${spec.name}' value ${i} is ${JSON.stringify(v)}, not a number`);
      if (!Number.isFinite(v)) throw this.fail(line, `input '${spec.name}' value ${i} is not finite`);
      if (integer && !Number.isInteger(v)) throw this.fail(line, `input '${spec.name}' is ${spec.datatype}, but value ${i} is ${v}`);
    });
    return flat as number[];
  }

  private label(value: unknown, line: number): number {
    const { classes, labels } = this.signature;
    if (typeof value === 'string') {
      const index = labels?.indexOf(value) ?? -1;
      if (index < 0)
        throw this.fail(
          line,
          `label ${JSON.stringify(value)} is not one of the model's labels${labels ? ` (${labels.join(', ')})` : ' (it has none; give class indices)'}`,
        );
      return index;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= classes) {
      throw this.fail(line, `label ${JSON.stringify(value)} is out of range: a class index 0-${classes - 1} or a label name is needed`);
    }
    return value;
  }

  add(row: Row, line: number): void {
    const { inputs, task } = this.signature;
    let given: Record<string, unknown>;
    if (row.inputs !== undefined) {
      if (typeof row.inputs !== 'object' || row.inputs === null || Array.isArray(row.inputs))
        throw this.fail(line, '"inputs" must map input names to values');
      given = row.inputs as Record<string, unknown>;
    } else if (row.input !== undefined) {
      if (inputs.length !== 1) throw this.fail(line, `the model has ${inputs.length} inputs; give them by name in "inputs"`);
      given = { [inputs[0].name]: row.input };
    } else {
      throw this.fail(line, 'no "input" or "inputs"');
    }
    for (const name of Object.keys(given)) {
      if (!inputs.some((s) => s.name === name))
        throw this.fail(line, `the model has no input '${name}' (it has ${inputs.map((s) => s.name).join(', ')})`);
    }
    const decoded = inputs.map((spec) => {
      if (given[spec.name] === undefined) throw this.fail(line, `input '${spec.name}' is missing`);
      return this.numbers(given[spec.name], spec, line);
    });
    if (task === 'classification') {
      if (row.label === undefined) throw this.fail(line, 'no "label"');
      this.labels.push(this.label(row.label, line));
    } else if (task === 'regression') {
      const target = Array.isArray(row.target) ? (row.target.flat(Infinity) as unknown[]) : [row.target];
      if (target.length !== this.signature.targetSize || !target.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw this.fail(line, `"target" must be ${this.signature.targetSize} finite number(s)`);
      }
      this.targets.push(...(target as number[]));
    }
    inputs.forEach((spec, i) => this.values.get(spec.name)!.push(...decoded[i]));
    this.count++;
  }

  finish(bytes: Buffer): Dataset {
    if (this.count === 0) throw new DataError(`${this.file}: no examples`);
    if (this.signature.task === 'classification' && new Set(this.labels).size < 2) {
      throw new DataError(
        `${this.file}: every example has the same label (${this.labels[0]}); a classifier needs at least two classes to learn from`,
      );
    }
    const inputs = new Map<string, Float32Array | Int32Array>();
    for (const spec of this.signature.inputs) {
      const v = this.values.get(spec.name)!;
      inputs.set(spec.name, spec.datatype.startsWith('INT') ? Int32Array.from(v) : Float32Array.from(v));
    }
    return {
      file: this.file,
      sha256: sha256(bytes),
      count: this.count,
      inputs,
      ...(this.signature.task === 'classification' ? { labels: Int32Array.from(this.labels) } : {}),
      ...(this.signature.task === 'regression' ? { targets: Float32Array.from(this.targets) } : {}),
    };
  }
}

function readJsonLines(text: string, builder: Builder, file: string): void {
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw new DataError(`${file}:${i + 1}: not JSON: ${(err as Error).message}`);
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      throw new DataError(`${file}:${i + 1}: each line must be a JSON object`);
    builder.add(row, i + 1);
  });
}

function readCsv(text: string, builder: Builder, file: string, signature: DataSignature, labelColumn: string): void {
  let rows: string[][];
  try {
    // Rows of the wrong length are reported below, with their line, rather than by the parser.
    rows = parseCsv(text, { skip_empty_lines: true, trim: true, relax_column_count: true });
  } catch (err) {
    throw new DataError(`${file}: not CSV: ${(err as Error).message}`);
  }
  const [header, ...body] = rows;
  if (!header) throw new DataError(`${file}: no header row`);
  if (signature.inputs.length !== 1)
    throw new DataError(`${file}: CSV holds one flat input; the model has ${signature.inputs.length}; use JSON Lines`);
  const target = signature.task !== 'regression' ? header.indexOf(labelColumn) : -1;
  if (signature.task === 'classification' && target < 0)
    throw new DataError(`${file}: the header has no '${labelColumn}' column (--label-column names it)`);
  body.forEach((cells, i) => {
    const line = i + 2;
    const number = (c: string, column: string) => {
      const v = c === '' ? NaN : Number(c);
      if (Number.isNaN(v)) throw new DataError(`${file}:${line}: column '${column}' is ${JSON.stringify(c)}, not a number`);
      return v;
    };
    if (cells.length !== header.length) throw new DataError(`${file}:${line}: ${cells.length} column(s); the header has ${header.length}`);
    const features = cells.flatMap((c, j) => (j === target ? [] : [number(c, header[j])]));
    const raw = target >= 0 ? cells[target] : undefined;
    const label = raw === undefined ? undefined : /^-?\d+$/.test(raw) ? Number(raw) : raw;
    builder.add({ input: features, label }, line);
  });
}

export interface ReadDataOptions {
  /** The CSV column holding the label. @default 'label' */
  readonly labelColumn?: string;
}

/** Reads a .jsonl/.json or .csv data file, checked against `signature`. */
export async function readDataset(file: string, signature: DataSignature, opts: ReadDataOptions = {}): Promise<Dataset> {
  const bytes = await readFile(file).catch((err: Error) => {
    throw new DataError(`cannot read ${file}: ${err.message}`);
  });
  const builder = new Builder(signature, file);
  const text = bytes.toString('utf8');
  if (/\.csv$/i.test(file)) readCsv(text, builder, file, signature, opts.labelColumn ?? 'label');
  else readJsonLines(text, builder, file);
  return builder.finish(bytes);
}
