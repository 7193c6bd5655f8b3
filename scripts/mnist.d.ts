// The mnist package ships no types: it exports one object per digit, each a plain { length, get(i) }.
declare module 'mnist' {
  const digits: ReadonlyArray<{ readonly length: number; get(i: number): number[] }>;
  export = digits;
}
