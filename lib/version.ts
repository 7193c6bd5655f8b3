import pkg from '../package.json';

/** The toolkit's version, recorded in every manifest and reported by GET /v2. */
export const VERSION: string = pkg.version;
