import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The root folder of the cdk-microservices package, found from this file whether it runs from source
 * (`lib/constructs`) or compiled (`dist/lib/constructs`). Platform-owned handlers ship with the package.
 * @internal
 */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'cdk-microservices')
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cdk-microservices: cannot find the package root above ${__dirname}`);
    dir = parent;
  }
}

/** Absolute path of a handler that ships with the package, e.g. `platform/handlers/pre-token-generation.ts`. @internal */
export function packagedHandler(relative: string): string {
  return path.join(packageRoot(), 'functions', relative);
}
