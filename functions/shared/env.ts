/** Reads a required environment variable; a missing one is a deployment bug, so fail loudly at cold start. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Environment variable ${name} is not set`);
  return value;
}
