/**
 * The picture side of an image model: a canvas to draw on (white ink on black, as MNIST's digits are)
 * and an image file picker. Either gives RGBA pixels, which image-geometry.ts scales into the input.
 */
import type { ImageGeometry } from '../../package/image-geometry';
import { MAX_IMAGE_FILE_BYTES, MAX_IMAGE_PIXELS, megabytes } from '../limits';
import { h } from './dom';

/** Pixels of a picture, at whatever size it came. */
export interface Picture {
  readonly rgba: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

const PAD = 280;

function context(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('this browser has no 2D canvas');
  return ctx;
}

function clear(ctx: CanvasRenderingContext2D): void {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, PAD, PAD);
}

/** Reads a picked file; a sentence saying what is wrong with it when it cannot be used. */
async function readFile(file: File): Promise<Picture | string> {
  if (file.size > MAX_IMAGE_FILE_BYTES) {
    return `${file.name} is ${megabytes(file.size)}; the page takes images up to ${megabytes(MAX_IMAGE_FILE_BYTES)}`;
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return `${file.name} is not an image this browser can read (PNG, JPEG, GIF, WebP or BMP)`;
  }
  try {
    if (bitmap.width * bitmap.height > MAX_IMAGE_PIXELS) {
      return `${file.name} is ${bitmap.width}x${bitmap.height} pixels; the page takes images up to ${MAX_IMAGE_PIXELS / (1024 * 1024)} megapixels`;
    }
    const canvas = h('canvas', { width: bitmap.width, height: bitmap.height });
    const ctx = context(canvas);
    ctx.drawImage(bitmap, 0, 0);
    return { rgba: ctx.getImageData(0, 0, bitmap.width, bitmap.height).data, width: bitmap.width, height: bitmap.height };
  } finally {
    bitmap.close();
  }
}

/** The pad for one image input; `onPicture` gets each finished stroke's canvas or each picked file. */
export function imagePad(model: string, g: ImageGeometry, onPicture: (p: Picture) => void): HTMLElement {
  const canvas = h('canvas', {
    width: PAD,
    height: PAD,
    class: 'pad',
    id: 'pad',
    role: 'img',
    'aria-label': `Drawing area: draw with the mouse, a pen or a finger; it is sent as a ${g.width}x${g.height} image`,
  });
  const ctx = context(canvas);
  clear(ctx);
  const status = h(
    'p',
    { class: 'hint', id: 'pad-status', role: 'status' },
    `Draw, or pick an image; it is scaled to ${g.width}x${g.height} ${g.channels}.`,
  );
  const error = h('p', { class: 'error', id: 'pad-error', role: 'alert' });
  const file = h('input', { type: 'file', id: 'image-file', accept: 'image/*' });
  const clearButton = h('button', { type: 'button', id: 'pad-clear' }, 'Clear');

  // The pen is as wide as two of the model's pixels: a stroke reads like a pen line, not a hairline.
  const pen = (2 * PAD) / g.width;
  let drawing = false;
  const point = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * PAD) / r.width, ((e.clientY - r.top) * PAD) / r.height];
  };
  canvas.addEventListener('pointerdown', (e) => {
    drawing = true;
    canvas.setPointerCapture(e.pointerId);
    const [x, y] = point(e);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = pen;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x, y);
    ctx.stroke();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    const [x, y] = point(e);
    ctx.lineTo(x, y);
    ctx.stroke();
  });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    error.textContent = '';
    onPicture({ rgba: ctx.getImageData(0, 0, PAD, PAD).data, width: PAD, height: PAD });
  };
  canvas.addEventListener('pointerup', finish);
  canvas.addEventListener('pointercancel', finish);
  clearButton.addEventListener('click', () => {
    clear(ctx);
    error.textContent = '';
    file.value = '';
  });
  file.addEventListener('change', () => {
    const picked = file.files?.[0];
    if (!picked) return;
    void readFile(picked).then((p) => {
      if (typeof p === 'string') {
        error.textContent = p;
        return;
      }
      error.textContent = '';
      // Show what is sent: the picture, fitted to the pad, its pixels kept sharp.
      clear(ctx);
      const s = Math.min(PAD / p.width, PAD / p.height);
      const bitmapCanvas = h('canvas', { width: p.width, height: p.height });
      context(bitmapCanvas).putImageData(new ImageData(new Uint8ClampedArray(p.rgba), p.width, p.height), 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(bitmapCanvas, (PAD - p.width * s) / 2, (PAD - p.height * s) / 2, p.width * s, p.height * s);
      status.textContent = `${picked.name}: ${p.width}x${p.height}, scaled to ${g.width}x${g.height} ${g.channels}.`;
      onPicture(p);
    });
  });

  return h(
    'section',
    { class: 'card pad-card', 'aria-labelledby': `pad-title-${model}` },
    h('h3', { id: `pad-title-${model}` }, 'Draw or pick an image'),
    canvas,
    h('div', { class: 'row' }, clearButton, h('label', { class: 'file' }, 'Image file ', file)),
    status,
    error,
  );
}
