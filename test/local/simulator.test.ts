// The IAM simulator is an optional peer (AGPL-3.0-or-later): without it, enforcement says what to install.
describe('the optional IAM simulator', () => {
  afterEach(() => jest.resetModules());

  it('is loaded when installed (this repository installs it as a devDependency)', async () => {
    await jest.isolateModulesAsync(async () => {
      const { loadSimulator, simulatorInstalled } = await import('../../local/iam/simulator');
      expect(simulatorInstalled()).toBe(true);
      expect(typeof loadSimulator().runSimulation).toBe('function');
    });
  });

  it('names the package, its licence and --no-enforce when it is missing, and the Authorizer refuses to start', async () => {
    await jest.isolateModulesAsync(async () => {
      jest.doMock('@cloud-copilot/iam-simulate', () => {
        throw Object.assign(
          new Error("Cannot find module '@cloud-copilot/iam-simulate' from 'simulator.ts'"),
          {
            code: 'MODULE_NOT_FOUND',
          },
        );
      });
      const { SimulatorUnavailableError, simulatorInstalled } = await import('../../local/iam/simulator');
      const { Authorizer } = await import('../../local/iam/authorizer');
      expect(simulatorInstalled()).toBe(false);
      let thrown: unknown;
      try {
        new Authorizer({} as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SimulatorUnavailableError);
      expect((thrown as Error).message).toMatch(
        /needs @cloud-copilot\/iam-simulate, which is not installed.*AGPL-3\.0-or-later.*npm install --save-dev @cloud-copilot\/iam-simulate.*dev --no-enforce. runs without it; .check. needs it/,
      );
    });
  });

  it('does not hide other failures to load it', async () => {
    await jest.isolateModulesAsync(async () => {
      jest.doMock('@cloud-copilot/iam-simulate', () => {
        throw new SyntaxError('Unexpected token');
      });
      const { simulatorInstalled } = await import('../../local/iam/simulator');
      expect(() => simulatorInstalled()).toThrow(SyntaxError);
    });
  });
});
