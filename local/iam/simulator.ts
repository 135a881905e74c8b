import type * as IamSimulate from '@cloud-copilot/iam-simulate';

/**
 * The IAM policy simulator the local runtime evaluates requests with. It is an optional peer dependency: its
 * licence (AGPL-3.0-or-later) differs from this package's (Apache-2.0), so installing it is the team's choice.
 */
export const SIMULATOR_PACKAGE = '@cloud-copilot/iam-simulate';

/** IAM enforcement was asked for but the simulator is not installed. */
export class SimulatorUnavailableError extends Error {
  constructor() {
    super(
      `IAM enforcement needs ${SIMULATOR_PACKAGE}, which is not installed. It is licensed AGPL-3.0-or-later, so ` +
        `cdk-microservices does not install it for you: \`npm install --save-dev ${SIMULATOR_PACKAGE}\` to ` +
        'evaluate IAM, KMS and resource policies offline (`cdk-microservices dev --no-enforce` runs without it; ' +
        '`check` needs it).',
    );
    this.name = 'SimulatorUnavailableError';
  }
}

let simulator: typeof IamSimulate | undefined;

/** The simulator module, loaded on first use; {@link SimulatorUnavailableError} when it is not installed. */
export function loadSimulator(): typeof IamSimulate {
  if (simulator) return simulator;
  try {
    // Loaded lazily so that the local runtime starts without it (enforcement off) when it is not installed.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    simulator = require(SIMULATOR_PACKAGE) as typeof IamSimulate;
  } catch (error) {
    const notFound =
      (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
      String((error as Error).message).includes(SIMULATOR_PACKAGE);
    if (notFound) throw new SimulatorUnavailableError();
    throw error;
  }
  return simulator;
}

/** Whether the simulator is installed (any other failure to load it is thrown). */
export function simulatorInstalled(): boolean {
  try {
    loadSimulator();
    return true;
  } catch (error) {
    if (error instanceof SimulatorUnavailableError) return false;
    throw error;
  }
}
