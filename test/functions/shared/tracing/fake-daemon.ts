import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

/** A segment document as the daemon receives it (the fields the tests look at). */
export interface SegmentDocument {
  readonly name: string;
  readonly id: string;
  readonly trace_id: string;
  readonly parent_id: string;
  readonly type: string;
  readonly start_time: number;
  readonly end_time?: number;
  readonly in_progress?: boolean;
  readonly namespace?: string;
  readonly annotations?: Record<string, string | number | boolean>;
  readonly metadata?: Record<string, Record<string, unknown>>;
  readonly aws?: Record<string, unknown>;
  readonly http?: {
    readonly request?: { readonly method: string; readonly url: string };
    readonly response?: { readonly status: number; readonly content_length?: number };
  };
  readonly error?: boolean;
  readonly fault?: boolean;
  readonly throttle?: boolean;
  readonly cause?: {
    readonly exceptions: {
      readonly id: string;
      readonly message: string;
      readonly type: string;
      readonly remote?: boolean;
      readonly stack?: { path: string; line: number; label: string }[];
    }[];
  };
}

/** The first line of every datagram, as the X-Ray daemon protocol prescribes. */
export const DATAGRAM_HEADER = '{"format":"json","version":1}';

/** A stand-in for the X-Ray daemon: a UDP socket on a free loopback port that keeps what it receives. */
export class FakeDaemon {
  /** Every datagram, verbatim. */
  public readonly datagrams: string[] = [];
  /** The documents of the datagrams, in arrival order. */
  public readonly documents: SegmentDocument[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly socket: Socket) {
    socket.on('message', (message) => {
      const text = message.toString('utf8');
      this.datagrams.push(text);
      this.documents.push(JSON.parse(text.slice(text.indexOf('\n') + 1)) as SegmentDocument);
      for (const listener of this.listeners) listener();
    });
  }

  static async start(): Promise<FakeDaemon> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new FakeDaemon(socket);
  }

  /** The value for AWS_XRAY_DAEMON_ADDRESS. */
  get address(): string {
    const { address, port } = this.socket.address() as AddressInfo;
    return `${address}:${port}`;
  }

  /** Waits until `count` documents of trace `root` have arrived, and returns them (rejects after 2 s). */
  async documentsOf(root: string, count: number): Promise<SegmentDocument[]> {
    const matching = () => this.documents.filter((d) => d.trace_id === root);
    if (matching().length >= count) return matching();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`expected ${count} documents of ${root}, got ${matching().length}`));
      }, 2000);
      const check = () => {
        if (matching().length < count) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(matching());
      };
      this.listeners.add(check);
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

/** A fresh trace as Lambda would start it for one invocation. */
export interface InvocationTrace {
  readonly root: string;
  readonly parent: string;
  /** The `_X_AMZN_TRACE_ID` value. */
  readonly header: string;
}

export function newInvocationTrace(sampled = true): InvocationTrace {
  const epoch = Math.floor(Date.now() / 1000).toString(16);
  const root = `1-${epoch}-${randomBytes(12).toString('hex')}`;
  const parent = randomBytes(8).toString('hex');
  return {
    root,
    parent,
    header: `Root=${root};Parent=${parent};Sampled=${sampled ? 1 : 0};Lineage=a87bd80c:1`,
  };
}

/** The environment variables the tracing code reads; tests save and restore them. */
export const TRACING_ENV = [
  'AWS_EXECUTION_ENV',
  'LAMBDA_TASK_ROOT',
  'AWS_XRAY_DAEMON_ADDRESS',
  '_X_AMZN_TRACE_ID',
  'POWERTOOLS_TRACE_ENABLED',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  '_HANDLER',
];

/**
 * The environment of a Lambda function with active tracing, sending to `daemon`: what makes Powertools Tracer
 * switch itself on (`AWS_EXECUTION_ENV`, no `POWERTOOLS_TRACE_ENABLED=false`) and the X-Ray SDK run in its
 * Lambda mode (`LAMBDA_TASK_ROOT`). Both read it when they are loaded, so import the code under test after.
 */
export function enterTracedLambda(daemon: FakeDaemon, handler: string): void {
  process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs24.x';
  process.env.LAMBDA_TASK_ROOT = process.cwd();
  process.env.AWS_XRAY_DAEMON_ADDRESS = daemon.address;
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
  process.env._HANDLER = handler;
  delete process.env.POWERTOOLS_TRACE_ENABLED;
}

/** Remembers the current values of `names` and returns a function that puts them back. */
export function saveEnv(names: readonly string[]): () => void {
  const saved = names.map((name) => [name, process.env[name]] as const);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
