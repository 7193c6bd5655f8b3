/**
 * JSON with exact 64-bit integers. Plain JSON.parse rounds integers past 2^53, which would silently
 * corrupt INT64/UINT64 tensors, so bodies that hold such digits are parsed losslessly.
 */
import { isInteger, isSafeNumber, parse as losslessParse } from 'lossless-json';
import { BadRequestError } from './errors';

/**
 * An integer token of 16+ digits: the only way an integer outside ±2^53 can appear in JSON text.
 * Fraction digits (after '.') and mantissas (before '.', 'e') do not count: float-heavy bodies such as
 * pixel data are full of long fractions, and must stay on the fast path.
 */
const LONG_INTEGER = /(?:^|[^\d.])\d{16,}(?![\d.eE])/;

function parseNumber(text: string): number | bigint {
  return isInteger(text) && !isSafeNumber(text) ? BigInt(text) : Number(text);
}

/**
 * Parses JSON text; integers that a double cannot hold exactly come back as BigInt.
 * Throws BadRequestError naming `what` when the text is not JSON.
 * @param exactIntegers false when no value can need 64-bit precision (a model without INT64/UINT64
 *   inputs): the scan for long integers is skipped, which matters for large float bodies.
 */
export function parseJson(text: string, what = 'request body', exactIntegers = true): unknown {
  try {
    // Only text that may hold a 64-bit integer pays for the scan, and only a hit pays for lossless parsing.
    return exactIntegers && LONG_INTEGER.test(text) ? losslessParse(text, null, parseNumber) : JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** JSON.stringify that writes BigInt values as exact integers (JSON.stringify itself throws on them). */
export function stringifyJson(value: unknown, indent = 0): string {
  return write(value, indent, '');
}

function write(value: unknown, indent: number, pad: string): string {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return write(Array.from(value as unknown as ArrayLike<unknown>), indent, pad);
  }
  const inner = indent > 0 ? pad + ' '.repeat(indent) : '';
  const nl = indent > 0 ? '\n' : '';
  const sep = indent > 0 ? ': ' : ':';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    // Arrays of numbers stay on one line: tensors would otherwise print one element per line.
    const flat = value.every((v) => typeof v !== 'object' || v === null);
    if (flat) return `[${value.map((v) => write(v, 0, '')).join(',')}]`;
    return `[${nl}${value.map((v) => inner + write(v, indent, inner)).join(`,${nl}`)}${nl}${pad}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  return `{${nl}${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}${sep}${write(v, indent, inner)}`).join(`,${nl}`)}${nl}${pad}}`;
}
