/**
 * Which model inputs are images, and how a picture's pixels become such an input's data. Pure and
 * dependency-free: `modelship package` checks a manifest's `preprocess` with it, and the browser page
 * (lib/page/browser, bundled by esbuild) turns a drawing or a picked file into a request with it, so the
 * two never disagree on a layout.
 */
import type { Preprocess } from '../protocol/wire';

export type { Preprocess };

/** An image-shaped input, with every dimension known. */
export interface ImageGeometry extends Preprocess {
  readonly height: number;
  readonly width: number;
}

/** The largest height or width the page scales a picture to. */
export const MAX_IMAGE_SIDE = 512;

const CHANNELS = { gray: 1, rgb: 3 } as const;

function side(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_IMAGE_SIDE;
}

/**
 * The geometry of an input of `shape` laid out as `preprocess` says, or a sentence saying why the shape
 * cannot hold such an image. A flat input is a square picture: [N, 784] is 28x28 gray.
 */
export function geometryFor(shape: readonly number[], preprocess: Preprocess): ImageGeometry | string {
  const c = CHANNELS[preprocess.channels];
  if (preprocess.layout === 'flat') {
    if (shape.length !== 2) return `a flat image input has 2 dimensions, [N, H*W*C]; this one has ${shape.length}`;
    const pixels = shape[1] / c;
    const s = Math.round(Math.sqrt(pixels));
    if (!side(s) || s * s * c !== shape[1]) {
      return `a flat ${preprocess.channels} image input holds a square of side 1-${MAX_IMAGE_SIDE} times ${c} channel(s); ${shape[1]} values do not`;
    }
    return { ...preprocess, height: s, width: s };
  }
  if (shape.length !== 4) return `an ${preprocess.layout} image input has 4 dimensions; this one has ${shape.length}`;
  const [h, w, ch] = preprocess.layout === 'NHWC' ? [shape[1], shape[2], shape[3]] : [shape[2], shape[3], shape[1]];
  if (ch !== c) return `an ${preprocess.layout} ${preprocess.channels} image input has ${c} channel(s); this one has ${ch}`;
  if (!side(h) || !side(w)) return `an image input's height and width must be known and 1-${MAX_IMAGE_SIDE}; these are ${h} and ${w}`;
  return { ...preprocess, height: h, width: w };
}

/**
 * The image geometry of an input: the manifest's `preprocess` when it has one, else what the shape alone
 * says ([N, 784] and [N, H, W, 1|3] are NHWC-ordered, [N, 1|3, H, W] NCHW, values 0..1). Undefined when
 * the input is not image-shaped.
 */
export function imageGeometry(shape: readonly number[], preprocess?: Preprocess): ImageGeometry | undefined {
  if (preprocess !== undefined) {
    const g = geometryFor(shape, preprocess);
    return typeof g === 'string' ? undefined : g;
  }
  const guesses: Preprocess[] = [];
  if (shape.length === 2 && shape[1] === 784) guesses.push({ layout: 'flat', range: [0, 1], channels: 'gray' });
  if (shape.length === 4) {
    for (const channels of ['gray', 'rgb'] as const) {
      guesses.push({ layout: 'NHWC', range: [0, 1], channels }, { layout: 'NCHW', range: [0, 1], channels });
    }
  }
  for (const guess of guesses) {
    const g = geometryFor(shape, guess);
    if (typeof g !== 'string') return g;
  }
  return undefined;
}

/**
 * Area-averaged resampling of one channel: each output pixel is the mean of the source pixels it covers,
 * weighted by how much of each it covers. Exact for whole-number ratios (280 -> 28 averages 10x10 blocks),
 * unlike a canvas's drawImage, whose smoothing is the browser's to choose.
 */
export function resample(src: ArrayLike<number>, srcW: number, srcH: number, dstW: number, dstH: number): Float64Array {
  const out = new Float64Array(dstW * dstH);
  const sx = srcW / dstW;
  const sy = srcH / dstH;
  for (let y = 0; y < dstH; y++) {
    const y0 = y * sy;
    const y1 = y0 + sy;
    for (let x = 0; x < dstW; x++) {
      const x0 = x * sx;
      const x1 = x0 + sx;
      let sum = 0;
      for (let j = Math.floor(y0); j < Math.min(Math.ceil(y1), srcH); j++) {
        const wy = Math.min(j + 1, y1) - Math.max(j, y0);
        for (let i = Math.floor(x0); i < Math.min(Math.ceil(x1), srcW); i++) {
          const wx = Math.min(i + 1, x1) - Math.max(i, x0);
          sum += src[j * srcW + i] * wx * wy;
        }
      }
      out[y * dstW + x] = sum / (sx * sy);
    }
  }
  return out;
}

/**
 * One image's input data, flat and row-major in the input's layout, from RGBA pixels (a canvas's
 * ImageData) of any size: scaled to the input's height and width, reduced to its channels (gray is the
 * mean of red, green and blue), and mapped from 0..255 onto its range.
 */
export function imageToInput(rgba: ArrayLike<number>, srcW: number, srcH: number, g: ImageGeometry): number[] {
  const planes: Float64Array[] = [];
  const n = srcW * srcH;
  if (g.channels === 'gray') {
    const gray = new Float64Array(n);
    for (let p = 0; p < n; p++) gray[p] = (rgba[p * 4] + rgba[p * 4 + 1] + rgba[p * 4 + 2]) / 3;
    planes.push(resample(gray, srcW, srcH, g.width, g.height));
  } else {
    for (let c = 0; c < 3; c++) {
      const plane = new Float64Array(n);
      for (let p = 0; p < n; p++) plane[p] = rgba[p * 4 + c];
      planes.push(resample(plane, srcW, srcH, g.width, g.height));
    }
  }
  const [lo, hi] = g.range;
  const scale = (v: number) => lo + (v / 255) * (hi - lo);
  const pixels = g.width * g.height;
  const out = new Array<number>(pixels * planes.length);
  if (g.layout === 'NCHW') {
    planes.forEach((plane, c) => {
      for (let p = 0; p < pixels; p++) out[c * pixels + p] = scale(plane[p]);
    });
  } else {
    for (let p = 0; p < pixels; p++) for (let c = 0; c < planes.length; c++) out[p * planes.length + c] = scale(planes[c][p]);
  }
  return out;
}

/** The shape of one image in this geometry, for a request: [1, 784], [1, H, W, C] or [1, C, H, W]. */
export function imageShape(g: ImageGeometry): number[] {
  const c = CHANNELS[g.channels];
  if (g.layout === 'flat') return [1, g.height * g.width * c];
  return g.layout === 'NHWC' ? [1, g.height, g.width, c] : [1, c, g.height, g.width];
}
