/**
 * Functions use zod's tree-shakable `zod/mini` API (about 15 KB bundled, against about 440 KB for zod's classic
 * API). Importing this module once gives its error messages in English: `import '../shared/schema';` next to
 * `import * as z from 'zod/mini';` (import the namespace directly: re-exporting it would defeat tree shaking).
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

/** Any zod schema (classic or mini). */
export type { $ZodType as AnySchema } from 'zod/v4/core';
