/**
 * A small JSON Schema (draft 4) validator covering the keywords API Gateway request models use here: type
 * (object, string, integer, number, array, boolean, null; or a list of them), properties, required,
 * additionalProperties (false or a schema), minProperties, maxProperties, minLength, maxLength, minimum,
 * maximum, exclusiveMinimum, exclusiveMaximum (draft-4 booleans), multipleOf, pattern, items (a schema or a
 * tuple), minItems, maxItems, uniqueItems, enum, allOf, anyOf, oneOf, not. `format` is ignored, as API
 * Gateway ignores it; so are `$schema`, `schema`, `title`, `description` and unknown keywords.
 */

/** A draft-4 schema as plain JSON. */
export type JsonSchemaDocument = Readonly<Record<string, unknown>>;

/**
 * Validates `value` against `schema`.
 * @returns one message per violation (`{pointer}: {problem}`, the root being `/`); empty when valid.
 */
export function validateJsonSchema(schema: JsonSchemaDocument, value: unknown): string[] {
  const errors: string[] = [];
  check(schema, value, '', errors);
  return errors;
}

function check(schema: JsonSchemaDocument, value: unknown, pointer: string, errors: string[]): void {
  const at = pointer || '/';
  const fail = (problem: string) => errors.push(`${at}: ${problem}`);

  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => hasType(value, t))) {
      fail(`must be ${types.join(' or ')}, got ${typeOf(value)}`);
      return;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => deepEqual(option, value))) {
    fail(`must be one of ${JSON.stringify(schema.enum)}`);
  }

  if (typeof value === 'string') checkString(schema, value, fail);
  if (typeof value === 'number') checkNumber(schema, value, fail);
  if (Array.isArray(value)) checkArray(schema, value, pointer, errors, fail);
  if (isObject(value)) checkObject(schema, value, pointer, errors, fail);

  if (Array.isArray(schema.allOf)) {
    for (const sub of schema.allOf as JsonSchemaDocument[]) check(sub, value, pointer, errors);
  }
  if (Array.isArray(schema.anyOf)) {
    const ok = (schema.anyOf as JsonSchemaDocument[]).some((sub) => validateAt(sub, value, pointer));
    if (!ok) fail('must match at least one schema of anyOf');
  }
  if (Array.isArray(schema.oneOf)) {
    const matches = (schema.oneOf as JsonSchemaDocument[]).filter((sub) => validateAt(sub, value, pointer));
    if (matches.length !== 1) fail(`must match exactly one schema of oneOf (matched ${matches.length})`);
  }
  if (isObject(schema.not) && validateAt(schema.not, value, pointer))
    fail('must not match the schema of not');
}

function validateAt(schema: JsonSchemaDocument, value: unknown, pointer: string): boolean {
  const errors: string[] = [];
  check(schema, value, pointer, errors);
  return errors.length === 0;
}

function checkString(schema: JsonSchemaDocument, value: string, fail: (problem: string) => void): void {
  // JSON Schema counts characters (code points), not UTF-16 units.
  const length = [...value].length;
  if (typeof schema.minLength === 'number' && length < schema.minLength) {
    fail(`must be at least ${schema.minLength} characters long`);
  }
  if (typeof schema.maxLength === 'number' && length > schema.maxLength) {
    fail(`must be at most ${schema.maxLength} characters long`);
  }
  if (typeof schema.pattern === 'string' && !compile(schema.pattern).test(value)) {
    fail(`must match the pattern ${schema.pattern}`);
  }
}

function checkNumber(schema: JsonSchemaDocument, value: number, fail: (problem: string) => void): void {
  if (typeof schema.minimum === 'number') {
    if (schema.exclusiveMinimum === true ? value <= schema.minimum : value < schema.minimum) {
      fail(`must be ${schema.exclusiveMinimum === true ? '>' : '>='} ${schema.minimum}`);
    }
  }
  if (typeof schema.maximum === 'number') {
    if (schema.exclusiveMaximum === true ? value >= schema.maximum : value > schema.maximum) {
      fail(`must be ${schema.exclusiveMaximum === true ? '<' : '<='} ${schema.maximum}`);
    }
  }
  if (typeof schema.multipleOf === 'number' && schema.multipleOf > 0) {
    const quotient = value / schema.multipleOf;
    if (Math.abs(quotient - Math.round(quotient)) > 1e-9) fail(`must be a multiple of ${schema.multipleOf}`);
  }
}

function checkArray(
  schema: JsonSchemaDocument,
  value: readonly unknown[],
  pointer: string,
  errors: string[],
  fail: (problem: string) => void,
): void {
  if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
    fail(`must have at least ${schema.minItems} items`);
  }
  if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
    fail(`must have at most ${schema.maxItems} items`);
  }
  if (schema.uniqueItems === true) {
    const duplicate = value.some((item, i) => value.slice(0, i).some((earlier) => deepEqual(earlier, item)));
    if (duplicate) fail('must not contain duplicate items');
  }
  if (Array.isArray(schema.items)) {
    const tuple = schema.items as JsonSchemaDocument[];
    value.forEach((item, i) => {
      if (i < tuple.length) check(tuple[i], item, `${pointer}/${i}`, errors);
      else if (schema.additionalItems === false)
        errors.push(`${pointer}/${i}: is not allowed (additionalItems)`);
      else if (isObject(schema.additionalItems))
        check(schema.additionalItems, item, `${pointer}/${i}`, errors);
    });
  } else if (isObject(schema.items)) {
    const items = schema.items;
    value.forEach((item, i) => check(items, item, `${pointer}/${i}`, errors));
  }
}

function checkObject(
  schema: JsonSchemaDocument,
  value: Readonly<Record<string, unknown>>,
  pointer: string,
  errors: string[],
  fail: (problem: string) => void,
): void {
  const keys = Object.keys(value);
  if (typeof schema.minProperties === 'number' && keys.length < schema.minProperties) {
    fail(`must have at least ${schema.minProperties} properties`);
  }
  if (typeof schema.maxProperties === 'number' && keys.length > schema.maxProperties) {
    fail(`must have at most ${schema.maxProperties} properties`);
  }
  if (Array.isArray(schema.required)) {
    const missing = (schema.required as string[]).filter((name) => !Object.hasOwn(value, name));
    if (missing.length > 0) fail(`is missing required properties ${JSON.stringify(missing)}`);
  }
  const properties = isObject(schema.properties)
    ? (schema.properties as Record<string, JsonSchemaDocument>)
    : {};
  const patterns = isObject(schema.patternProperties)
    ? Object.entries(schema.patternProperties as Record<string, JsonSchemaDocument>).map(
        ([pattern, sub]) => [compile(pattern), sub] as const,
      )
    : [];
  for (const key of keys) {
    const child = `${pointer}/${escapePointer(key)}`;
    let described = false;
    if (Object.hasOwn(properties, key) && isObject(properties[key])) {
      described = true;
      check(properties[key], value[key], child, errors);
    }
    for (const [regex, sub] of patterns) {
      if (regex.test(key)) {
        described = true;
        check(sub, value[key], child, errors);
      }
    }
    if (described) continue;
    if (schema.additionalProperties === false) errors.push(`${child}: is not allowed (additionalProperties)`);
    else if (isObject(schema.additionalProperties))
      check(schema.additionalProperties, value[key], child, errors);
  }
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'any':
      return true;
    default:
      return false;
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}

const compiled = new Map<string, RegExp>();

/** ECMA-262 regular expression of a `pattern`, unanchored as JSON Schema specifies. */
function compile(pattern: string): RegExp {
  let regex = compiled.get(pattern);
  if (!regex) {
    try {
      regex = new RegExp(pattern, 'u');
    } catch {
      regex = new RegExp(pattern);
    }
    compiled.set(pattern, regex);
  }
  return regex;
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
