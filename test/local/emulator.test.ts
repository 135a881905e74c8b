import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { motoLauncherPath, startEmulator, startMotoServer } from '../../local/emulator';

describe('startEmulator', () => {
  it('fails at once, saying how to get an emulator, when there is neither moto_server nor AWS_ENDPOINT_URL', async () => {
    await expect(startEmulator({ PATH: '/nonexistent' })).rejects.toThrow(
      /pip install "moto\[server\]".*|LocalStack/s,
    );
  });

  it('uses the emulator AWS_ENDPOINT_URL names (e.g. LocalStack) without starting one', async () => {
    const emulator = await startEmulator({
      PATH: '/nonexistent',
      AWS_ENDPOINT_URL: 'http://localhost:4566',
      AWS_REGION: 'eu-west-1',
    });
    expect(emulator).toMatchObject({
      endpoint: 'http://localhost:4566',
      region: 'eu-west-1',
      external: true,
    });
    await emulator.stop();
  });
});

describe('startMotoServer', () => {
  it('runs the launcher from its own Python file, local/moto/launcher.py', async () => {
    expect(motoLauncherPath()).toBe(path.join(__dirname, '..', '..', 'local', 'moto', 'launcher.py'));
    const moto = await startMotoServer();
    try {
      const commandLine = fs.readFileSync(`/proc/${moto.pid}/cmdline`, 'utf8').split('\0');
      // pyenv's python3 shim execs the interpreter by its full path.
      expect(path.basename(commandLine[0])).toBe('python3');
      expect(commandLine[1]).toBe(motoLauncherPath());
    } finally {
      await moto.stop();
    }
  });

  it('runs moto through the launcher with every speed-up in place: nothing to report', async () => {
    const moto = await startMotoServer();
    try {
      expect(moto.notices).toEqual([]);
    } finally {
      await moto.stop();
    }
  });

  it('reports a speed-up the launcher could not apply, and moto still serves', async () => {
    // A jsonpath_ng that cannot be imported stands in for a moto whose internals changed.
    const fake = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-python-'));
    fs.mkdirSync(path.join(fake, 'jsonpath_ng'));
    fs.writeFileSync(
      path.join(fake, 'jsonpath_ng', '__init__.py'),
      "raise ImportError('hidden by a test')\n",
    );
    const saved = process.env.PYTHONPATH;
    process.env.PYTHONPATH = fake;
    try {
      const moto = await startMotoServer();
      try {
        expect(moto.notices).toEqual([
          `moto runs without parsed_paths_once: ImportError('hidden by a test')`,
        ]);
        const answer = await fetch(`${moto.endpoint}/moto-api/`);
        expect(answer.status).toBe(200);
      } finally {
        await moto.stop();
      }
    } finally {
      if (saved === undefined) delete process.env.PYTHONPATH;
      else process.env.PYTHONPATH = saved;
      fs.rmSync(fake, { recursive: true, force: true });
    }
  });
});
