// Preloaded (`node --require`) into the process of a CDK app's `app` command by the local runtime's synth: when
// the process exits it appends the files it loaded through require (tsx and ts-node load a CommonJS app's .ts
// files that way) to the file named by CDK_MICROSERVICES_LOADED_FILES, one a line. The runtime re-synthesizes when
// one of them changes (a contracts module imported by lib/ as well as by the handlers, not only bin/ and lib/).
// Every node process of the command appends (`tsx file` runs the file in a second process); node_modules is left
// out. Plain CommonJS without dependencies: it runs before any loader.
'use strict';

const target = process.env.CDK_MICROSERVICES_LOADED_FILES;
if (target) {
  process.once('exit', () => {
    try {
      const files = Object.keys(require.cache).filter(
        (file) => file !== module.filename && !/[/\\]node_modules[/\\]/.test(file),
      );
      require('node:fs').appendFileSync(target, files.map((file) => file + '\n').join(''));
    } catch {
      // The list is a hint: without it the runtime watches bin/ and lib/.
    }
  });
}
