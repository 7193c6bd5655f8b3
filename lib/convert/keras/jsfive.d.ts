// jsfive ships no types; this declares the part of its high-level API that lib/convert/keras reads.
declare module 'jsfive' {
  export class Group {
    readonly name: string;
    readonly keys: string[];
    readonly attrs: Record<string, unknown>;
    get(path: string): Group | Dataset | null;
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }
  export class Dataset {
    readonly name: string;
    readonly shape: number[];
    readonly dtype: string | Record<string, unknown>;
    readonly value: unknown;
    readonly attrs: Record<string, unknown>;
  }
}
