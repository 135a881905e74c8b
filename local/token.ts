import {
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { emulatorClientConfig } from './aws-clients';
import type { EmulatorEndpoint } from './model';

/** Signs a user in against the emulator's user pool (USER_PASSWORD_AUTH) and returns the access token. */
export async function signIn(
  emulator: EmulatorEndpoint,
  clientId: string,
  username: string,
  password: string,
): Promise<string> {
  const cognito = new CognitoIdentityProviderClient(emulatorClientConfig(emulator));
  try {
    const result = await cognito.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: username, PASSWORD: password },
      }),
    );
    const token = result.AuthenticationResult?.AccessToken;
    if (!token)
      throw new Error(`No access token for ${username} (challenge: ${result.ChallengeName ?? 'none'})`);
    return token;
  } finally {
    cognito.destroy();
  }
}

/** Where a running `npm start` writes how to reach it, for `npm run token`. */
export const RUNTIME_INFO_FILE = '.local-runtime.json';

export interface RuntimeInfo {
  readonly apiUrl: string;
  readonly emulator: EmulatorEndpoint;
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  readonly users: ReadonlyArray<{ username: string; password: string; groups: readonly string[] }>;
  readonly pid: number;
}
