/**
 * P2's baseline: a minimal hand-written node:http + onnxruntime server doing the same inference as the local
 * server, and nothing else: no auth, no rate limit, no validation, no routing. It reads the whole body, parses
 * the JSON, builds a float32 tensor from the first input's flat data, runs the session and answers
 * JSON.stringify of the outputs. Run as a child process: `node minimal-server.js MODEL.onnx`; it prints
 * `{"url": ...}` on stdout when it listens.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ort from 'onnxruntime-node';

async function main(): Promise<void> {
  const modelPath = process.argv[2];
  if (!modelPath) throw new Error('usage: minimal-server MODEL.onnx');
  // The same session options as the engine (InferenceEngine.load), and the same thread setting as the local server.
  const threads = Number(process.env.BENCH_INTRA_OP_THREADS) || undefined;
  const session = await ort.InferenceSession.create(readFileSync(modelPath), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(threads ? { intraOpNumThreads: threads } : {}),
  });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            inputs: { name: string; shape: number[]; data: number[] }[];
          };
          const input = body.inputs[0];
          const results = await session.run({ [input.name]: new ort.Tensor('float32', Float32Array.from(input.data), input.shape) });
          const outputs = Object.entries(results).map(([name, t]) => ({
            name,
            datatype: 'FP32',
            shape: t.dims,
            data: Array.from(t.data as Float32Array),
          }));
          const text = JSON.stringify({ outputs });
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
          res.end(text);
        } catch (err) {
          const text = JSON.stringify({ error: (err as Error).message });
          res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
          res.end(text);
        }
      })();
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  server.on('close', () => void session.release());
}

main().catch((err: Error) => {
  process.stderr.write(`minimal-server: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
