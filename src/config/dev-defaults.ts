/**
 * Where `npm start` puts its embedded parts and who may call them. Kept free of imports so the CLI can rely on
 * these values without loading the development stack (which is not installed in production).
 */
export const DEV_GATEWAY_URL = 'http://127.0.0.1:3000';
export const DEV_SSO_PORT = 3001;
export const DEV_EMULATOR_PORT = 8888;
/** The embedded emulator's AccessKey: public, like Azure's emulator key (the emulator listens on loopback only). */
export const DEV_EMULATOR_ACCESS_KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH';
export const DEV_AUDIENCE = 'api://signalr-gateway';
export const DEV_SERVICE_CLIENT_ID = 'signalr-gateway-service';
export const DEV_FRONTEND_CLIENT_ID = 'signalr-gateway-frontend';
/**
 * The development service client's secret. It is public on purpose, like Azure's emulator key: the development
 * issuer listens on loopback only and is refused in production, and a fixed value keeps the README's curl working.
 */
export const DEV_SERVICE_CLIENT_SECRET = 'signalr-gateway-development-secret';

/**
 * Where a gateway started with the development SSO (`npm start` without SSO_ISSUER, any ports) says which issuer
 * and service client to use: the CLI reads it, so it needs no flags against any development stack.
 */
export const DEV_SSO_DISCOVERY_PATH = '/dev/sso.json';

/** An SSO issuer and a client that may obtain service tokens there (client credentials). */
export interface SsoServiceClient {
  issuer: string;
  clientId: string;
  clientSecret: string;
}
