/**
 * AWS AppConfig Data for the local runtime: `StartConfigurationSession` and `GetLatestConfiguration`, serving
 * the configuration each template deploys (its `AWS::AppConfig::Deployment` of a hosted configuration version).
 *
 * moto 5.2 emulates neither AppConfig environments and deployments nor the AppConfig Data API, so the runtime
 * answers these two calls itself, from the same synthesized templates that deploy to AWS: a function's
 * `AWS_ENDPOINT_URL_APPCONFIGDATA` points here (every other AWS call still goes to `AWS_ENDPOINT_URL`), so the
 * Powertools AppConfig provider and the plain SDK client work unchanged. With IAM enforcement, each call's
 * SigV4 signature is checked with the function's credentials and the action is evaluated on the configuration
 * ARN (`application/{app}/environment/{env}/configuration/{profile}`), as AWS does.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AccessDecision, AccessRequest, CallerPrincipal } from './iam/authorizer';
import type { LocalSystem, ResolvedResource } from './model';
import { parseSigV4, verifySigV4 } from './sigv4';
import { closeServer, listenOnLoopback, parseJsonObject, readBody } from './util';

/** A configuration deployed to an environment, as AppConfig Data serves it. */
export interface DeployedConfiguration {
  readonly applicationId: string;
  readonly applicationName?: string;
  readonly environmentId: string;
  readonly environmentName?: string;
  readonly profileId: string;
  readonly profileName?: string;
  /** What GetLatestConfiguration returns (for a feature flags profile: the flags' values only, as AWS). */
  readonly content: string;
  readonly contentType: string;
  /** The hosted configuration version deployed. */
  readonly versionNumber: string;
}

/** What the stand-in asks of the runtime's IAM enforcement (the runtime's `Enforcement` has it). */
export interface AppConfigDataIam {
  /** The secret and principal of an access key; undefined when the key is unknown. */
  signer(
    accessKeyId: string,
  ): { readonly secretAccessKey: string; readonly principal: CallerPrincipal } | undefined;
  readonly authorizer: { authorize(request: AccessRequest): Promise<AccessDecision> };
  /** AWS's AccessDenied message. */
  message(decision: AccessDecision): string;
}

/** Options of {@link AppConfigDataStandIn}. */
export interface AppConfigDataStandInOptions {
  readonly configurations: readonly DeployedConfiguration[];
  /** Region and account of the configuration ARNs. */
  readonly region: string;
  readonly accountId: string;
  /**
   * IAM enforcement: signatures checked and actions evaluated.
   * @default - calls are answered without checks, as the emulator does
   */
  readonly iam?: AppConfigDataIam;
  /** Denials. */
  readonly log?: (line: string) => void;
}

const FEATURE_FLAGS = 'AWS.AppConfig.FeatureFlags';
/** AppConfig Data's minimum and default poll interval (seconds). */
const POLL_INTERVAL_SECONDS = 60;

/**
 * The configurations the templates deploy: for each `AWS::AppConfig::Deployment`, the hosted configuration
 * version it deploys, its application, environment and profile (ids and names).
 */
export function deployedConfigurations(resources: readonly ResolvedResource[]): DeployedConfiguration[] {
  const byRef = (type: string, ref: unknown) => resources.find((r) => r.type === type && r.ref === ref);
  const deployments = resources.filter((r) => r.type === 'AWS::AppConfig::Deployment');
  const latest = new Map<string, DeployedConfiguration>();
  for (const deployment of deployments) {
    const props = deployment.properties;
    const version = resources.find(
      (r) =>
        r.type === 'AWS::AppConfig::HostedConfigurationVersion' &&
        r.ref === String(props.ConfigurationVersion) &&
        r.properties.ConfigurationProfileId === props.ConfigurationProfileId,
    );
    if (!version) continue;
    const profile = byRef('AWS::AppConfig::ConfigurationProfile', props.ConfigurationProfileId);
    const application = byRef('AWS::AppConfig::Application', props.ApplicationId);
    const environment = byRef('AWS::AppConfig::Environment', props.EnvironmentId);
    const hosted = String(version.properties.Content ?? '');
    const configuration: DeployedConfiguration = {
      applicationId: String(props.ApplicationId),
      applicationName: nameOf(application),
      environmentId: String(props.EnvironmentId),
      environmentName: nameOf(environment),
      profileId: String(props.ConfigurationProfileId),
      profileName: nameOf(profile),
      content: profile?.properties.Type === FEATURE_FLAGS ? flagValues(hosted) : hosted,
      contentType: String(version.properties.ContentType ?? 'application/octet-stream'),
      versionNumber: version.ref,
    };
    latest.set(
      `${configuration.applicationId}/${configuration.environmentId}/${configuration.profileId}`,
      configuration,
    );
  }
  return [...latest.values()];
}

/** One session: the configuration it reads and the version last returned to it. */
interface Session {
  readonly configuration: DeployedConfiguration;
  readonly principal?: CallerPrincipal;
  served?: string;
}

/** The AppConfig Data API on a loopback port, serving {@link DeployedConfiguration}s. */
export class AppConfigDataStandIn {
  private server?: Server;
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly options: AppConfigDataStandInOptions) {}

  /**
   * The stand-in for what `system`'s templates deploy, checked by `iam` when given; undefined when no template
   * deploys an AppConfig configuration.
   */
  static forSystem(
    system: LocalSystem,
    region: string,
    iam: AppConfigDataIam | undefined,
    log: (line: string) => void,
  ): AppConfigDataStandIn | undefined {
    const configurations = deployedConfigurations(system.resources);
    if (configurations.length === 0) return undefined;
    return new AppConfigDataStandIn({
      configurations,
      region,
      accountId: system.accountId,
      ...(iam ? { iam } : {}),
      log,
    });
  }

  /** One line: the configurations served (`application/environment/profile`, by name). */
  describe(): string {
    const names = this.options.configurations.map(
      (c) =>
        `${c.applicationName ?? c.applicationId}/${c.environmentName ?? c.environmentId}/${c.profileName ?? c.profileId}`,
    );
    return `${names.length} configuration${names.length === 1 ? '' : 's'} (${names.join(', ')})`;
  }

  /** Listens on a free loopback port; resolves to the endpoint (`AWS_ENDPOINT_URL_APPCONFIGDATA`). */
  async start(): Promise<string> {
    const server = createServer((req, res) => {
      void this.handle(req, res).catch((error: unknown) => {
        this.options.log?.(`appconfigdata error: ${error instanceof Error ? error.message : String(error)}`);
        if (!res.headersSent) this.error(res, 500, 'InternalServerException', 'Internal error');
        else res.destroy();
      });
    });
    this.server = server;
    return listenOnLoopback(server);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServer(server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const caller = await this.caller(req, url, body);
    if (!caller.ok) return this.error(res, caller.status, caller.code, caller.message);

    if (req.method === 'POST' && url.pathname === '/configurationsessions') {
      const input = parseJsonObject(body);
      const configuration = this.find(
        String(input.ApplicationIdentifier ?? ''),
        String(input.EnvironmentIdentifier ?? ''),
        String(input.ConfigurationProfileIdentifier ?? ''),
      );
      if (!configuration) {
        return this.error(
          res,
          404,
          'ResourceNotFoundException',
          `No configuration deployed for application ${show(input.ApplicationIdentifier)}, environment ` +
            `${show(input.EnvironmentIdentifier)} and profile ${show(input.ConfigurationProfileIdentifier)}`,
        );
      }
      const denied = await this.authorize(
        caller.principal,
        'appconfig:StartConfigurationSession',
        configuration,
      );
      if (denied) return this.error(res, 403, 'AccessDeniedException', denied);
      const token = this.newToken({ configuration, principal: caller.principal });
      return this.json(res, 201, { InitialConfigurationToken: token });
    }

    if (req.method === 'GET' && url.pathname === '/configuration') {
      const token = url.searchParams.get('configuration_token') ?? '';
      const session = this.sessions.get(token);
      if (!session) {
        return this.error(
          res,
          400,
          'BadRequestException',
          'The configuration token is not valid or has expired',
        );
      }
      const { configuration } = session;
      const denied = await this.authorize(
        caller.principal,
        'appconfig:GetLatestConfiguration',
        configuration,
      );
      if (denied) return this.error(res, 403, 'AccessDeniedException', denied);
      // A token is used once; the next poll uses the token this answer gives.
      this.sessions.delete(token);
      const changed = session.served !== configuration.versionNumber;
      const next = this.newToken({ ...session, served: configuration.versionNumber });
      const content = changed ? Buffer.from(configuration.content) : Buffer.alloc(0);
      res
        .writeHead(200, {
          'content-type': configuration.contentType,
          'content-length': String(content.length),
          'next-poll-configuration-token': next,
          'next-poll-interval-in-seconds': String(POLL_INTERVAL_SECONDS),
          'version-label': configuration.versionNumber,
          'x-amzn-requestid': randomUUID(),
        })
        .end(content);
      return;
    }
    this.error(
      res,
      404,
      'ResourceNotFoundException',
      `${req.method} ${url.pathname} is not an AppConfig Data operation`,
    );
  }

  /** The configuration an application, environment and profile identifier (id or name each) designate. */
  private find(application: string, environment: string, profile: string): DeployedConfiguration | undefined {
    return this.options.configurations.find(
      (c) =>
        (c.applicationId === application || c.applicationName === application) &&
        (c.environmentId === environment || c.environmentName === environment) &&
        (c.profileId === profile || c.profileName === profile),
    );
  }

  private newToken(session: Session): string {
    const token = randomBytes(24).toString('base64url');
    this.sessions.set(token, session);
    return token;
  }

  /** Who signs the request: checked only with IAM enforcement (the emulator checks no signature either). */
  private async caller(
    req: IncomingMessage,
    url: URL,
    body: Buffer,
  ): Promise<
    { ok: true; principal?: CallerPrincipal } | { ok: false; status: number; code: string; message: string }
  > {
    const { iam } = this.options;
    if (!iam) return { ok: true };
    const parsed = parseSigV4(String(req.headers.authorization ?? ''));
    if (!parsed)
      return {
        ok: false,
        status: 403,
        code: 'MissingAuthenticationTokenException',
        message: 'Missing Authentication Token',
      };
    const signer = iam.signer(parsed.accessKeyId);
    if (!signer) {
      return {
        ok: false,
        status: 403,
        code: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      };
    }
    const query: Record<string, string[]> = {};
    for (const [name, value] of url.searchParams) (query[name] ??= []).push(value);
    const failure = await verifySigV4(
      {
        method: req.method ?? 'GET',
        path: url.pathname,
        query,
        header: (name) => {
          const value = req.headers[name];
          return value === undefined ? undefined : Array.isArray(value) ? value : [value];
        },
        body,
      },
      parsed,
      signer.secretAccessKey,
    );
    if (failure) {
      this.options.log?.(`refused appconfig call: ${failure}`);
      return {
        ok: false,
        status: 403,
        code: 'InvalidSignatureException',
        message: 'The request signature we calculated does not match the signature you provided.',
      };
    }
    return { ok: true, principal: signer.principal };
  }

  /** Undefined when allowed (or not enforced); else AWS's AccessDenied message. */
  private async authorize(
    principal: CallerPrincipal | undefined,
    action: string,
    configuration: DeployedConfiguration,
  ): Promise<string | undefined> {
    const { iam, region, accountId } = this.options;
    if (!iam || !principal) return undefined;
    const resource =
      `arn:aws:appconfig:${region}:${accountId}:application/${configuration.applicationId}` +
      `/environment/${configuration.environmentId}/configuration/${configuration.profileId}`;
    const decision = await iam.authorizer.authorize({ principal, action, resource });
    if (decision.allowed) return undefined;
    this.options.log?.(`denied ${action} on ${resource}: ${decision.reason}`);
    return iam.message(decision);
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res
      .writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() })
      .end(JSON.stringify(body));
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    res
      .writeHead(status, {
        'content-type': 'application/json',
        'x-amzn-errortype': code,
        'x-amzn-requestid': randomUUID(),
      })
      .end(JSON.stringify({ Message: message, message }));
  }
}

/** AppConfig Data serves a feature flags profile as `{ flag: { enabled, ...attributes } }`: the values only. */
function flagValues(hosted: string): string {
  const document = parseJsonObject(Buffer.from(hosted));
  return JSON.stringify(document.values ?? {});
}

function nameOf(resource: ResolvedResource | undefined): string | undefined {
  const name = resource?.properties.Name;
  return typeof name === 'string' ? name : undefined;
}

function show(value: unknown): string {
  return JSON.stringify(value ?? null);
}
