/**
 * Some tests run the real CLI (`node dist/bin/modelship.js`) as a child process, the way a user does.
 * Build once, before any test file starts, so that parallel workers never race to compile.
 */
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async () => {
  const root = join(__dirname, '..', '..');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
};
