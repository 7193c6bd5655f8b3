/**
 * Parses a config.pbtxt the way Triton does, as protobuf text format into inference.ModelConfig:
 * `protoc --encode` is the real text-format parser (it fails on any syntax error, unknown field or
 * bad enum value), and protobufjs then decodes protoc's binary output into a plain object.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, type Type } from 'protobufjs';

const PROTO_DIR = __dirname;
const PROTO_FILE = 'model_config.proto';

export interface DecodedTensor {
  name: string;
  data_type: string;
  dims: number[];
  reshape: { shape: number[] } | null;
}

export interface DecodedModelConfig {
  name: string;
  platform: string;
  backend: string;
  max_batch_size: number;
  input: DecodedTensor[];
  output: DecodedTensor[];
  dynamic_batching?: { preferred_batch_size: number[]; max_queue_delay_microseconds: number } | null;
  instance_group: Array<{ name: string; count: number; kind: string; gpus: number[] }>;
  default_model_filename: string;
  model_warmup: Array<{
    name: string;
    batch_size: number;
    count: number;
    inputs: Record<string, { data_type: string; dims: number[]; input_data_file?: string; zero_data?: boolean; random_data?: boolean }>;
  }>;
}

let modelConfigType: Type | undefined;

function modelConfig(): Type {
  modelConfigType ??= parse(readFileSync(join(PROTO_DIR, PROTO_FILE), 'utf8'), { keepCase: true }).root.lookupType('inference.ModelConfig');
  return modelConfigType;
}

/** Runs `protoc --encode=inference.ModelConfig` on the text; rejects with protoc's own error when it does not parse. */
export function encodeWithProtoc(text: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('protoc', [`--encode=inference.ModelConfig`, `--proto_path=${PROTO_DIR}`, PROTO_FILE], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'ENOENT'
          ? new Error(
              'protoc is not installed. These tests parse config.pbtxt with protoc from the protobuf-compiler package; ' +
                '.ci/run installs it (apt-get install -y protobuf-compiler). Install it the same way to run them.',
            )
          : e,
      );
    });
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`protoc rejected the text (exit ${code}): ${Buffer.concat(err).toString('utf8').trim()}`));
    });
    child.stdin.on('error', () => {
      /* protoc may exit before reading everything; 'close' reports it */
    });
    child.stdin.end(text);
  });
}

/** The text parsed by protoc and decoded; every field present, with its proto3 default when unset. */
export async function parseModelConfig(text: string): Promise<DecodedModelConfig> {
  const binary = await encodeWithProtoc(text);
  const type = modelConfig();
  return type.toObject(type.decode(binary), { enums: String, longs: Number, defaults: true, arrays: true }) as DecodedModelConfig;
}
