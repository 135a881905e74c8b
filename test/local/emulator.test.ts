import { startEmulator } from '../../local/emulator';

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
