/**
 * Before any test file starts: build dist/ once (some tests run the real CLI, `node dist/bin/modelship.js`,
 * as a user does, and parallel workers must never race to compile), and type-check the tests, which
 * ts-jest compiles file by file without type information, and the browser page's script.
 */
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async () => {
  const root = join(__dirname, '..', '..');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  execFileSync(process.execPath, [tsc, '--noEmit', '-p', join(root, 'tsconfig.test.json')], { stdio: 'inherit' });
  // The browser page's DOM code has its own config (the DOM's types, not Node's); esbuild bundles it unchecked.
  execFileSync(process.execPath, [tsc, '-p', join(root, 'lib', 'page', 'browser', 'tsconfig.json')], { stdio: 'inherit' });
};
