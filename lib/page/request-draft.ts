/**
 * The request the page's editor starts from and what a picture does to it: the package's golden sample
 * (the example the OpenAPI document carries for the model), or a request of zeros of the declared shapes,
 * and the same request with an image written into its image input. Pure, shared by the page and jest.
 */
import type { ImageGeometry } from '../package/image-geometry';
import type { ModelMetadata, WireInferRequest } from '../protocol/wire';

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The first example of the model's infer request in an OpenAPI document from GET /openapi.json. */
export function goldenExample(document: unknown, model: string): unknown {
  const paths = record(record(document)?.paths);
  const post = record(record(paths?.[`/v2/models/${model}/infer`])?.post);
  const content = record(record(record(post?.requestBody)?.content)?.['application/json']);
  const examples = record(content?.examples);
  const first = examples === undefined ? undefined : Object.values(examples)[0];
  return record(first)?.value;
}

/** A request of zeros (false, '') of the declared shapes, a dynamic dimension taking 1. */
export function zeroRequest(metadata: ModelMetadata): WireInferRequest {
  return {
    inputs: metadata.inputs.map((t) => {
      const shape = t.shape.map((d) => (d === -1 ? 1 : d));
      const count = shape.reduce((n, d) => n * d, 1);
      const zero = t.datatype === 'BOOL' ? false : t.datatype === 'BYTES' ? '' : 0;
      return { name: t.name, datatype: t.datatype, shape, data: new Array<unknown>(count).fill(zero) };
    }),
  };
}

/** Six significant digits: what a picture's pixels need, and an editor stays readable. */
function compact(v: number): number {
  return Number(v.toPrecision(6));
}

/**
 * `request` with its first input replaced by one image's `data` in geometry `g`, the other inputs kept.
 * A UINT8 input gets whole numbers.
 */
export function withImage(
  request: WireInferRequest,
  metadata: ModelMetadata,
  g: ImageGeometry,
  data: readonly number[],
  shape: number[],
): WireInferRequest {
  const input = metadata.inputs[0];
  const values = input.datatype === 'UINT8' ? data.map((v) => Math.round(Math.min(255, Math.max(0, v)))) : data.map(compact);
  const others = request.inputs.filter((i) => i.name !== input.name);
  return {
    ...request,
    id: `image-${g.width}x${g.height}`,
    inputs: [{ name: input.name, datatype: input.datatype, shape, data: values }, ...others],
  };
}
