import { z } from 'zod';
import { configurationProblems } from './problems';

/** The cdk context key that enables the pipeline (in `cdk.json`, or `-c pipeline='{...}'`). */
export const PIPELINE_CONTEXT_KEY = 'pipeline';

const ACCOUNT = z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id');
const REGION = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1');

/**
 * Typed, validated configuration of the delivery pipeline (`PipelineStack`). The pipeline exists only when the
 * `pipeline` context key is set; without it the app is what it was.
 */
export const PipelineConfigSchema = z
  .strictObject({
    /**
     * The CodeConnections (formerly CodeStar Connections) connection to the repository's host, created once in
     * the console or with `aws codeconnections create-connection` and then confirmed there ("Available").
     */
    connectionArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z]{2}(-[a-z]+)+-\d:\d{12}:connection\/[0-9a-f-]{36}$/,
        'a connection ARN such as arn:aws:codeconnections:eu-west-1:123456789012:connection/8f1c0a4e-2f43-4a0b-9d61-0123456789ab',
      ),
    /** The repository the connection gives access to, `owner/name`. */
    repository: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'owner/name, such as my-org/cdk-microservices'),
    /** The branch whose pushes run the pipeline. */
    branch: z
      .string()
      .regex(/^[A-Za-z0-9._/-]{1,255}$/, 'a branch name of letters, digits, ".", "_", "/" or "-"')
      .default('main'),
    /** The pipeline's account, also where `dev` deploys; omit for the CLI's credentials. */
    account: ACCOUNT.optional(),
    /** The pipeline's region, also where `dev` deploys; omit for the CLI's. */
    region: REGION.optional(),
    /**
     * Where `prod` deploys: another account (bootstrapped with `cdk bootstrap --trust <pipeline account>`) in the
     * pipeline's region; omitted, the pipeline's account. (Another region would need the pipeline's artifacts
     * replicated there, which this pipeline does not set up.)
     */
    prod: z.strictObject({ account: ACCOUNT.optional() }).optional(),
    /**
     * The Cognito username (an e-mail address: the user pool signs in by e-mail) of the smoke test's user in `dev`,
     * whose password the pipeline keeps in Secrets Manager.
     */
    smokeTestUser: z.email().default('smoke-test@example.com'),
  })
  .refine((c) => c.prod?.account === undefined || (c.account !== undefined && c.region !== undefined), {
    message:
      'set (with region) when prod.account is: a cross-account pipeline needs its own account and region',
    path: ['account'],
  });
export type PipelineConfig = z.infer<typeof PipelineConfigSchema>;

/**
 * Reads the pipeline's configuration from the `pipeline` context value: an object (`cdk.json`) or the same as a
 * JSON string (`-c pipeline='{"connectionArn": ...}'`). Returns `undefined` when it is not set (no pipeline).
 * Throws an error naming every bad key and its value, so `cdk synth` stops before anything is built.
 */
export function loadPipelineConfig(value: unknown): PipelineConfig | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let candidate = value;
  if (typeof value === 'string') {
    try {
      candidate = JSON.parse(value);
    } catch {
      throw new Error(
        `Invalid pipeline configuration: pipeline = ${JSON.stringify(value)}: a JSON object such as ` +
          `{"connectionArn": "arn:aws:codeconnections:...", "repository": "owner/name"}`,
      );
    }
  }
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
    throw new Error(
      `Invalid pipeline configuration: pipeline = ${JSON.stringify(candidate)}: an object with connectionArn and repository`,
    );
  }
  const parsed = PipelineConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    const problems = configurationProblems(candidate, parsed.error.issues, 'pipeline');
    throw new Error(`Invalid pipeline configuration:\n${problems.join('\n')}`);
  }
  return parsed.data;
}
