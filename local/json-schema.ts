/**
 * JSON Schema (draft 4, the dialect of API Gateway request models) validation through Ajv (`ajv-draft-04`),
 * with the local gateway's error messages: one `{pointer}: {problem}` line per violation, in document order.
 * `format` is ignored, as API Gateway ignores it; so are `$schema`, `schema`, `title`, `description` and
 * unknown keywords. A schema is compiled once (per distinct document) and the compiled validator is reused.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import Ajv from 'ajv-draft-04';

/** A draft-4 schema as plain JSON. */
export type JsonSchemaDocument = Readonly<Record<string, unknown>>;

/** A compiled schema: the violations of a value, one message per violation; empty when valid. */
export type JsonSchemaValidator = (value: unknown) => string[];

/** Thrown by {@link compileJsonSchema} for a document that is not a draft-4 schema Ajv can compile. */
export class JsonSchemaError extends Error {
  /**
   * @param message - what is wrong with the schema (Ajv's reason)
   */
  constructor(message: string) {
    super(message);
    this.name = 'JsonSchemaError';
  }
}

/**
 * One Ajv instance for every model: draft 4, every error reported, formats ignored (as API Gateway does),
 * unknown keywords ignored, `required` counting own properties only, `multipleOf` with the same tolerance as
 * API Gateway's validator, `pattern` compiled as a Unicode regular expression when it is one (else as a plain
 * one), and no schema added to the instance by its `id` (two models may share one).
 */
const ajv = new Ajv({
  allErrors: true,
  verbose: true,
  strict: false,
  validateFormats: false,
  ownProperties: true,
  multipleOfPrecision: 9,
  addUsedSchema: false,
  code: { regExp: regExpOf },
});

/** Compiled validators by schema object, and by schema text (so equal models compile once). */
const byObject = new WeakMap<object, JsonSchemaValidator>();
const byText = new Map<string, JsonSchemaValidator>();

/**
 * Compiles `schema` once: the returned function validates values against it with no further compilation.
 * @param schema - a draft-4 schema
 * @returns the validator (the same function for the same schema object or an equal document)
 * @throws JsonSchemaError when Ajv cannot compile the schema (e.g. an unresolvable `$ref`)
 */
export function compileJsonSchema(schema: JsonSchemaDocument): JsonSchemaValidator {
  const known = byObject.get(schema);
  if (known) return known;
  const text = JSON.stringify(schema);
  let validator = byText.get(text);
  if (!validator) {
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      throw new JsonSchemaError(error instanceof Error ? error.message : String(error));
    }
    validator = (value) => (validate(value) ? [] : messagesOf(validate.errors ?? [], value));
    byText.set(text, validator);
  }
  byObject.set(schema, validator);
  return validator;
}

/**
 * Validates `value` against `schema` (compiled on first use, see {@link compileJsonSchema}).
 * @returns one message per violation (`{pointer}: {problem}`, the root being `/`); empty when valid.
 */
export function validateJsonSchema(schema: JsonSchemaDocument, value: unknown): string[] {
  return compileJsonSchema(schema)(value);
}

// --- Ajv's errors as the gateway reports them -------------------------------------------------------------

interface Violation {
  /** JSON pointer of the offending value ('' for the root). */
  readonly pointer: string;
  readonly problem: string;
}

/**
 * The messages of Ajv's errors: a value of the wrong type reports only that (nothing else its schema says);
 * the branches of a failed `anyOf`/`oneOf` are not reported, only the combinator; missing required properties
 * are listed in one message; errors are ordered by where they are in the document (a value before what it
 * contains, properties in their order), as API Gateway lists them.
 */
function messagesOf(errors: readonly ErrorObject[], value: unknown): string[] {
  const typeFailures = errors
    .filter((e) => e.keyword === 'type')
    .map((e) => ({ schema: `${e.schemaPath.slice(0, -'/type'.length)}/`, instance: e.instancePath }));
  const kept = errors.filter(
    (e) =>
      !insideCombinator(e.schemaPath) &&
      !(
        e.keyword !== 'type' &&
        typeFailures.some(
          (t) =>
            e.schemaPath.startsWith(t.schema) &&
            (e.instancePath === t.instance || e.instancePath.startsWith(`${t.instance}/`)),
        )
      ),
  );
  const violations: Array<Violation | { readonly pointer: string; readonly missing: string[] }> = [];
  const missingAt = new Map<string, string[]>();
  for (const error of kept) {
    if (error.keyword === 'required') {
      const name = String((error.params as { missingProperty: unknown }).missingProperty);
      const key = `${error.instancePath} ${error.schemaPath}`;
      const names = missingAt.get(key);
      if (names) {
        names.push(name);
      } else {
        const missing = [name];
        missingAt.set(key, missing);
        violations.push({ pointer: error.instancePath, missing });
      }
      continue;
    }
    violations.push(...violationsOf(error));
  }
  const described = violations.map((v) =>
    'missing' in v
      ? { pointer: v.pointer, problem: `is missing required properties ${JSON.stringify(v.missing)}` }
      : v,
  );
  return sortByDocumentOrder(described, value).map(({ pointer, problem }) => `${pointer || '/'}: ${problem}`);
}

function violationsOf(error: ErrorObject): Violation[] {
  const at = error.instancePath;
  const params = error.params as Record<string, unknown>;
  const one = (problem: string): Violation[] => [{ pointer: at, problem }];
  switch (error.keyword) {
    case 'type': {
      const types = Array.isArray(error.schema) ? (error.schema as string[]) : [String(error.schema)];
      return one(`must be ${types.join(' or ')}, got ${typeOf(error.data)}`);
    }
    case 'enum':
      return one(`must be one of ${JSON.stringify(error.schema)}`);
    case 'minLength':
      return one(`must be at least ${String(params.limit)} characters long`);
    case 'maxLength':
      return one(`must be at most ${String(params.limit)} characters long`);
    case 'pattern':
      return one(`must match the pattern ${String(params.pattern)}`);
    case 'minimum':
    case 'maximum':
      return one(`must be ${String(params.comparison)} ${String(params.limit)}`);
    case 'multipleOf':
      return one(`must be a multiple of ${String(params.multipleOf)}`);
    case 'minItems':
      return one(`must have at least ${String(params.limit)} items`);
    case 'maxItems':
      return one(`must have at most ${String(params.limit)} items`);
    case 'uniqueItems':
      return one('must not contain duplicate items');
    case 'minProperties':
      return one(`must have at least ${String(params.limit)} properties`);
    case 'maxProperties':
      return one(`must have at most ${String(params.limit)} properties`);
    case 'dependencies':
      return one(
        `must have property ${JSON.stringify(params.missingProperty)} when property ` +
          `${JSON.stringify(params.property)} is present`,
      );
    case 'additionalProperties':
      return [
        {
          pointer: `${at}/${escapePointer(String(params.additionalProperty))}`,
          problem: 'is not allowed (additionalProperties)',
        },
      ];
    case 'additionalItems': {
      const limit = Number(params.limit);
      const length = Array.isArray(error.data) ? error.data.length : limit;
      return Array.from({ length: Math.max(0, length - limit) }, (_, i) => ({
        pointer: `${at}/${limit + i}`,
        problem: 'is not allowed (additionalItems)',
      }));
    }
    case 'anyOf':
      return one('must match at least one schema of anyOf');
    case 'oneOf': {
      const passing = params.passingSchemas;
      return one(
        `must match exactly one schema of oneOf (matched ${Array.isArray(passing) ? passing.length : 0})`,
      );
    }
    case 'not':
      return one('must not match the schema of not');
    default:
      return one(error.message ?? `fails ${error.keyword}`);
  }
}

/** Keywords whose value is a map of names to subschemas. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', 'dependencies']);
/** Keywords whose value is a subschema. */
const SUBSCHEMAS = new Set(['not', 'additionalProperties', 'additionalItems']);

/** Whether an error's schema path goes through a branch of `anyOf` or `oneOf` (not the combinator itself). */
function insideCombinator(schemaPath: string): boolean {
  const segments = schemaPath.replace(/^#\/?/, '').split('/');
  let i = 0;
  while (i < segments.length) {
    const keyword = segments[i];
    if (keyword === 'anyOf' || keyword === 'oneOf') return i + 1 < segments.length;
    if (SCHEMA_MAPS.has(keyword) || keyword === 'allOf') i += 2;
    else if (keyword === 'items') i += /^\d+$/.test(segments[i + 1] ?? '') ? 2 : 1;
    else if (SUBSCHEMAS.has(keyword)) i += 1;
    else return false;
  }
  return false;
}

/**
 * Orders violations by the position of what they are about in the document: a value before its contents,
 * object members in their order, array items by index; violations of one value keep Ajv's order.
 */
function sortByDocumentOrder(violations: readonly Violation[], document: unknown): Violation[] {
  const keyed = violations.map((violation, index) => ({
    violation,
    index,
    position: positionOf(violation.pointer, document),
  }));
  keyed.sort((a, b) => {
    const n = Math.min(a.position.length, b.position.length);
    for (let i = 0; i < n; i++) {
      if (a.position[i] !== b.position[i]) return a.position[i] - b.position[i];
    }
    return a.position.length - b.position.length || a.index - b.index;
  });
  return keyed.map((k) => k.violation);
}

/** The index of each step of a JSON pointer in its container (member order for objects). */
function positionOf(pointer: string, document: unknown): number[] {
  const position: number[] = [];
  let current = document;
  for (const raw of pointer.split('/').slice(1)) {
    const step = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      position.push(Number(step));
      current = current[Number(step)];
    } else if (typeof current === 'object' && current !== null) {
      const keys = Object.keys(current);
      const index = keys.indexOf(step);
      position.push(index < 0 ? keys.length : index);
      current = index < 0 ? undefined : (current as Record<string, unknown>)[step];
    } else {
      position.push(0);
    }
  }
  return position;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A `pattern` as a Unicode regular expression, or a plain one when it is not valid in Unicode mode. */
function regExpOf(pattern: string, flags: string): RegExp {
  try {
    return new RegExp(pattern, flags);
  } catch {
    return new RegExp(pattern, flags.replace('u', ''));
  }
}
regExpOf.code = 'new RegExp';
