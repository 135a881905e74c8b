/**
 * What handing work to another thread costs on this machine, the unit the local runtime pays per hop between
 * the gateway (main thread) and a handler (worker thread): the round trip of a 4 KB message to a bare
 * worker_threads echo, measured in three situations. Nothing of the runtime is involved; the figures explain
 * the runtime section's 1-client cells, where every hop lands on a thread that has been waiting.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { sleep } from '../local/util';
import { median, percentile } from './stats';

/** Round-trip medians and p90s (ms) of one situation. */
export interface HandoffFigure {
  readonly p50: number;
  readonly p90: number;
}

export interface HandoffFigures {
  /** The next message is sent as soon as the last answer arrived: both threads stay awake. */
  readonly backToBack: HandoffFigure;
  /** Both threads waited IDLE_MS (the sender on a timer) before each message. */
  readonly bothIdle: HandoffFigure;
  /**
   * The sender computed for IDLE_MS while the worker waited: the worker's CPU had gone idle while another was
   * busy, as in the runtime when moto or another thread works while a handler waits for its next invocation.
   */
  readonly otherBusy: HandoffFigure;
  readonly samples: number;
  readonly idleMs: number;
  /**
   * How long an idle CPU of a KVM guest polls for work before it halts (ns; /sys/module/haltpoll), when the
   * machine says: 0 means it halts at once, and waking it again goes through the hypervisor.
   */
  readonly guestHaltPollNs?: number;
}

const IDLE_MS = 4;
const WARMUP = 300;
/** About the size of an API Gateway event of the runtime (headers, request context, a small body). */
const PAYLOAD = { type: 'invoke', event: { body: 'x'.repeat(1500), headers: 'h'.repeat(2500) } };
const ECHO = `const { parentPort } = require('node:worker_threads');
parentPort.on('message', (message) => parentPort.postMessage(message.type));`;

/** Measures the three situations, `samples` round trips each. */
export async function measureHandoff(samples: number): Promise<HandoffFigures> {
  const worker = new Worker(ECHO, { eval: true });
  try {
    const roundTrip = () =>
      new Promise<number>((resolve) => {
        const sent = performance.now();
        worker.once('message', () => resolve(performance.now() - sent));
        worker.postMessage(PAYLOAD);
      });
    const run = async (before: () => Promise<void> | void): Promise<HandoffFigure> => {
      const times: number[] = [];
      for (let i = 0; i < samples; i++) {
        await before();
        times.push(await roundTrip());
      }
      return { p50: median(times), p90: percentile(times, 90) };
    };
    for (let i = 0; i < WARMUP; i++) await roundTrip();
    return {
      backToBack: await run(() => undefined),
      bothIdle: await run(() => sleep(IDLE_MS)),
      otherBusy: await run(() => {
        const until = performance.now() + IDLE_MS;
        while (performance.now() < until) {
          // Busy: this thread keeps its CPU while the worker's goes idle.
        }
      }),
      samples,
      idleMs: IDLE_MS,
      guestHaltPollNs: guestHaltPollNs(),
    };
  } finally {
    await worker.terminate();
  }
}

function guestHaltPollNs(): number | undefined {
  try {
    const value = Number(readFileSync('/sys/module/haltpoll/parameters/guest_halt_poll_ns', 'utf8').trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
