/**
 * The browser page's shell: GET / and its script, styles and icon, served without credentials by
 * `modelship serve`. Nothing in it names a model; the page asks the authenticated routes for everything.
 * Its script is lib/page/browser, bundled by esbuild (already modelship's Lambda bundler) on the first
 * request for it: the page is type-checked against lib/protocol's types and runs the same image and
 * request code jest tests in Node, with no build step of its own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MethodNotAllowedError } from '../protocol/errors';
import { errorResponse, type HttpResponse } from '../router/http';
import { modelshipRoot } from '../util/own-files';

/**
 * Scripts and styles from this origin only, no inline script or style, no eval, no plugin, no frame,
 * and Trusted Types with no policy, so no HTML string can reach a DOM sink even by mistake.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  'trusted-types',
].join('; ');

/** Sent with every part of the shell. `no-store`: the page is never kept, with or without a key in it. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
});

interface Asset {
  readonly type: string;
  read(): string;
}

function pageDir(): string {
  return join(modelshipRoot(), 'lib', 'page');
}

/** The page's script: one IIFE from lib/page/browser/main.ts and what it imports. */
export function bundlePageScript(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on the first request for the script only
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = esbuild.buildSync({
    entryPoints: [join(pageDir(), 'browser', 'main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

const ASSETS: Readonly<Record<string, Asset>> = {
  '/': { type: 'text/html; charset=utf-8', read: () => readFileSync(join(pageDir(), 'assets', 'index.html'), 'utf8') },
  '/page/app.css': { type: 'text/css; charset=utf-8', read: () => readFileSync(join(pageDir(), 'assets', 'app.css'), 'utf8') },
  '/page/icon.svg': { type: 'image/svg+xml', read: () => readFileSync(join(pageDir(), 'assets', 'icon.svg'), 'utf8') },
  '/page/app.js': { type: 'text/javascript; charset=utf-8', read: bundlePageScript },
};

/** The shell's route for LocalServer's `publicRoute`: each part read (and the script bundled) once. */
export function pageRoute(): (method: string, path: string) => HttpResponse | undefined {
  const cache = new Map<string, string>();
  return (method, path) => {
    const asset = ASSETS[path];
    if (asset === undefined) return undefined;
    if (method !== 'GET' && method !== 'HEAD') {
      const refused = errorResponse(new MethodNotAllowedError(`${method} is not allowed here; use GET`, ['GET', 'HEAD']));
      return { ...refused, headers: { ...refused.headers, ...PAGE_HEADERS } };
    }
    let body = cache.get(path);
    if (body === undefined) {
      body = asset.read();
      cache.set(path, body);
    }
    return { status: 200, headers: { ...PAGE_HEADERS, 'content-type': asset.type }, body };
  };
}
