import { IsIn, IsOptional, IsUrl } from 'class-validator';
import { validateEnv, type Env } from './validate-env.js';

class EntraEnv {
  /**
   * The Microsoft Entra authority to ask for tokens (`https://login.microsoftonline.us` for Azure Government, a
   * private authority). @azure/identity reads this variable itself; the gateway validates it and passes it on.
   */
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['https'] }, { message: 'must be the https URL of a Microsoft Entra authority' })
  AZURE_AUTHORITY_HOST?: string;

  /**
   * `true` skips @azure/identity's instance discovery (a call to login.microsoftonline.com that also validates the
   * authority). A private authority or Azure Stack needs it, as it cannot be discovered; @azure/identity reads no
   * variable for it. It also skips the authority's validation, so set it only for an authority you trust.
   */
  @IsIn(['true', 'false'], { message: 'must be true or false' })
  SIGNALR_ENTRA_DISABLE_INSTANCE_DISCOVERY = 'false';
}

/** How the gateway obtains Microsoft Entra ID tokens for connection strings with an `AuthType` (docs/azure-compatibility.md#microsoft-entra-id). */
export class EntraConfig {
  /** Unset: @azure/identity's default (AZURE_AUTHORITY_HOST, else the public cloud's authority). */
  readonly authorityHost!: string | undefined;
  readonly disableInstanceDiscovery!: boolean;

  constructor(options: EntraConfig) {
    Object.assign(this, options);
  }

  static fromEnv(env: Env): EntraConfig {
    const e = validateEnv(EntraEnv, env);
    return new EntraConfig({ authorityHost: e.AZURE_AUTHORITY_HOST, disableInstanceDiscovery: e.SIGNALR_ENTRA_DISABLE_INSTANCE_DISCOVERY === 'true' });
  }
}
