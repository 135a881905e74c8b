import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { EmulatorClients } from '../../local/aws-clients';
import type { LocalRuntime } from '../../local/runtime';
import { startLocalRuntime } from '../../local/runtime';

// The local alarms through the real runtime: a small app (fixtures/alarms-app) synthesized, provisioned into
// moto and served; a failing handler behind the API and a message dead-lettered by its failing consumer make
// the runtime print the ALARM lines of the app's alarms.

const APP = path.join(__dirname, 'fixtures', 'alarms-app');
const STACK = 'Alarms-local-Things';

let runtime: LocalRuntime;
let assemblyDir: string;
const lines: string[] = [];

beforeAll(async () => {
  assemblyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'alarms-runtime-'));
  runtime = await startLocalRuntime({
    appDir: APP,
    assemblyDir,
    port: 0,
    enforce: false,
    log: (line) => lines.push(line),
  });
}, 180_000);

afterAll(async () => {
  await runtime?.stop();
  fs.rmSync(assemblyDir, { recursive: true, force: true });
});

/** Waits until a line matches (the runtime evaluates every second and reads queue depths every 5 s). */
async function lineMatching(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = lines.find((line) => pattern.test(line));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no line matches ${pattern}:\n${lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('local alarms in the running runtime', () => {
  it('says at start-up which alarms it evaluates and which it cannot, once', () => {
    const summary = lines.filter((line) => /\] Alarms/.test(line));
    expect(summary).toEqual([
      expect.stringMatching(
        /\] Alarms: 3 of 4 evaluated locally \(AWS\/ApiGateway 5XXError, AWS\/Lambda Errors, AWS\/SQS ApproximateNumberOfMessagesVisible\); /,
      ),
      expect.stringMatching(
        /\] Alarms not evaluated locally: 1 — AWS\/DynamoDB ThrottledRequests \(the emulator neither throttles nor fails requests\)$/,
      ),
    ]);
  });

  it('prints an ALARM line when a handler behind the API fails', async () => {
    const response = await fetch(`${runtime.apiUrl}/things/fail`);
    expect(response.status).toBe(502);
    await expect(lineMatching(/^ALARM {2}Alarms-local-Things\/FailingErrors /)).resolves.toBe(
      `ALARM  ${STACK}/FailingErrors  things: GET /fail: 1 error in 1 min (threshold ≥ 1)  → would notify: Alarms local alarms`,
    );
    await expect(lineMatching(/^ALARM {2}Alarms-local-Things\/ApiServerErrors /)).resolves.toBe(
      `ALARM  ${STACK}/ApiServerErrors  API things: 1 5xx response in 1 min (threshold ≥ 1)  → would notify: Alarms local alarms`,
    );
  });

  it('prints an ALARM line when the dead-letter queue receives a message', async () => {
    const clients = new EmulatorClients(runtime.emulator);
    try {
      await clients.sqs.send(
        new SendMessageCommand({ QueueUrl: runtime.system.queueMappings[0].queueUrl, MessageBody: '{}' }),
      );
    } finally {
      clients.destroy();
    }
    await expect(lineMatching(/^ALARM {2}Alarms-local-Things\/DeadLetterAlarm /, 45_000)).resolves.toBe(
      `ALARM  ${STACK}/DeadLetterAlarm  queue ${STACK}-DeadLetterQueue9F481546: 1 message visible in 1 min (threshold ≥ 1)  → would notify: Alarms local alarms`,
    );
    // Nothing else fired (the function's errors alarm may fire again once its first minute has passed).
    const fired = new Set(
      lines.filter((line) => line.startsWith('ALARM  ')).map((line) => line.split('  ')[1]),
    );
    expect([...fired].sort()).toEqual([
      `${STACK}/ApiServerErrors`,
      `${STACK}/DeadLetterAlarm`,
      `${STACK}/FailingErrors`,
    ]);
  }, 60_000);
});
