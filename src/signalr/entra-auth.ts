import { ClientCertificateCredential, ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { EntraIdentity } from '../config/connection-string.js';
import type { EntraConfig } from '../config/entra.config.js';
import { ACCESS_KEY_PATH, EntraAccessKey } from './entra-access-key.js';
import { EntraTokens, type FetchListener } from './entra-token.js';
import { baseOf, type EntraSigning, type SigningKey } from './signer.js';

/** The @azure/identity credential a connection string's identity asks for, pointed at the configured authority. */
export function credentialOf(identity: EntraIdentity, config: EntraConfig): { credential: TokenCredential; name: string } {
  const authority = { authorityHost: config.authorityHost, disableInstanceDiscovery: config.disableInstanceDiscovery };
  switch (identity.kind) {
    case 'default':
      return {
        credential: new DefaultAzureCredential({ ...authority, managedIdentityClientId: identity.managedIdentityClientId }),
        name: 'DefaultAzureCredential',
      };
    case 'managed-identity':
      return {
        credential: new ManagedIdentityCredential(identity.clientId === undefined ? {} : { clientId: identity.clientId }),
        name: 'ManagedIdentityCredential',
      };
    case 'client-secret':
      return {
        credential: new ClientSecretCredential(identity.tenantId, identity.clientId, identity.clientSecret.reveal(), authority),
        name: 'ClientSecretCredential',
      };
    case 'client-certificate':
      return {
        credential: new ClientCertificateCredential(identity.tenantId, identity.clientId, { certificatePath: identity.certificatePath }, authority),
        name: 'ClientCertificateCredential',
      };
  }
}

export interface EntraAuthOptions {
  identity: EntraIdentity;
  /** ServerEndpoint, or Endpoint with Port: where the access key is fetched. */
  serverEndpoint: URL;
  config: EntraConfig;
  /** Deadline of one token request and of one access-key attempt. */
  timeoutMs: number;
  onFetch?: FetchListener;
}

/**
 * How one `AuthType` connection authenticates to Azure SignalR: REST calls carry its Entra token, client tokens are
 * signed with the service's temporary access key. Built once per connection (UpstreamCredentials).
 */
export class EntraAuth implements EntraSigning {
  readonly credentialName: string;
  private readonly tokens: EntraTokens;
  private readonly accessKey: EntraAccessKey;

  constructor({ identity, serverEndpoint, config, timeoutMs, onFetch }: EntraAuthOptions, credential = credentialOf(identity, config)) {
    this.credentialName = credential.name;
    const secrets = identity.kind === 'client-secret' ? [identity.clientSecret.reveal()] : [];
    this.tokens = new EntraTokens(credential.credential, credential.name, secrets, timeoutMs, onFetch);
    this.accessKey = new EntraAccessKey({ url: baseOf(serverEndpoint) + ACCESS_KEY_PATH, tokens: this.tokens, timeoutMs, onFetch });
  }

  /** Fetches the first access key now and keeps it fresh in the background. */
  start(): void {
    this.accessKey.start();
  }

  stop(): void {
    this.accessKey.stop();
  }

  restBearer(): Promise<string> {
    return this.tokens.token();
  }

  clientKey(): Promise<SigningKey> {
    return this.accessKey.signingKey();
  }

  /** For readiness: a token can be had and the access key is valid; otherwise EntraAuthError saying why. */
  async ready(): Promise<void> {
    await this.tokens.token();
    await this.accessKey.signingKey();
  }
}
