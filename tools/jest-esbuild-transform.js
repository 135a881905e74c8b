// Jest transformer: compiles TypeScript and ESM-only dependencies (e.g. @middy/core) to CommonJS with
// esbuild. Type checking is done once by `tsc --noEmit` in `npm run lint`, not per test file.
const { transformSync } = require('esbuild');
const { createHash } = require('node:crypto');

module.exports = {
  process(source, filename) {
    const loader = filename.endsWith('.ts') ? 'ts' : 'js';
    const { code, map } = transformSync(source, {
      loader,
      format: 'cjs',
      target: 'node20',
      sourcemap: 'external',
      sourcefile: filename,
      supported: { 'dynamic-import': false },
    });
    return { code, map };
  },
  getCacheKey(source, filename) {
    return createHash('sha256').update(source).update(filename).update('esbuild-cjs-v1').digest('hex');
  },
};
