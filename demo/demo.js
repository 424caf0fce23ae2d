// A frontend connecting to SignalR through the gateway, in two steps:
//   1. sign in with the SSO: authorization code + PKCE (WebCrypto, no library);
//   2. the standard SignalR client, pointed at the gateway's hub URL, with `accessTokenFactory` returning the SSO
//      access token. The gateway's negotiate answers with the SignalR service's URL and a client token, which the
//      client follows by itself; it calls the factory again on every reconnect.
/* global signalR */

/** Targets the page listens to; `broadcastMessage(sender, text)` is what Azure's quickstarts send. */
const TARGETS = ['broadcastMessage', 'newMessage', 'message'];

const config = await (await fetch('config.json')).json();
const gatewayUrl = config.gatewayUrl ?? location.origin;
/** This page, without query or fragment: the redirect URI registered with the SSO. */
const redirectUri = location.origin + location.pathname;
const $ = (id) => document.getElementById(id);

$('hub').textContent = config.hub;
$('gateway').textContent = gatewayUrl;
for (const element of document.querySelectorAll('.hub-name')) element.textContent = config.hub;

try {
  const sso = await (await fetch(`${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)).json();
  if (new URLSearchParams(location.search).has('code')) await completeSignIn(sso);
  $('sign-in').onclick = () => signIn(sso).catch(showError);
  $('sign-out').onclick = signOut;
  const token = currentToken();
  if (token) await connect(token);
  else $('sign-in').hidden = false;
} catch (error) {
  showError(error);
}

// --- Step 1: sign in (OAuth 2.0 authorization code with PKCE, RFC 7636) ---------------------------------------

async function signIn(sso) {
  const verifier = randomString();
  const state = randomString();
  sessionStorage.setItem('pkce', JSON.stringify({ verifier, state }));
  const url = new URL(sso.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: config.clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid profile',
    resource: config.resource,
    state,
    code_challenge: base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url);
}

/** Back from the SSO with `?code=...`: exchange it for tokens, then drop the code from the address bar. */
async function completeSignIn(sso) {
  const params = new URLSearchParams(location.search);
  const { verifier, state } = JSON.parse(sessionStorage.getItem('pkce') ?? '{}');
  sessionStorage.removeItem('pkce');
  history.replaceState(null, '', redirectUri);
  if (params.get('state') !== state) throw new Error('The sign-in answer does not match the request (state); sign in again.');
  const response = await fetch(sso.token_endpoint, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code'),
      redirect_uri: redirectUri,
      client_id: config.clientId,
      code_verifier: verifier,
    }),
  });
  const tokens = await response.json();
  if (!response.ok) throw new Error(`Sign-in failed: ${tokens.error_description ?? tokens.error ?? response.status}`);
  sessionStorage.setItem('accessToken', tokens.access_token);
}

/** The SSO access token, while it is valid for another few seconds. */
function currentToken() {
  const token = sessionStorage.getItem('accessToken');
  return token && claimsOf(token).exp * 1000 > Date.now() + 5000 ? token : undefined;
}

function signOut() {
  sessionStorage.removeItem('accessToken');
  location.reload();
}

// --- Step 2: connect with the standard SignalR client --------------------------------------------------------

async function connect(token) {
  const claims = claimsOf(token);
  $('user').textContent = claims.name ?? claims.sub;
  $('sign-out').hidden = false;

  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${gatewayUrl}/hubs/${config.hub}`, {
      // Called for every negotiate, reconnects included. An expired SSO token makes negotiate answer 401.
      accessTokenFactory: () => currentToken() ?? Promise.reject(new Error('The SSO session has expired; sign in again.')),
    })
    .withAutomaticReconnect()
    .configureLogging({ log: logToPage })
    .build();

  for (const target of TARGETS) connection.on(target, (...args) => showMessage(target, args));
  connection.onreconnecting(() => showState('Reconnecting'));
  connection.onreconnected((connectionId) => showState('Connected', connectionId));
  connection.onclose((error) => {
    showState('Disconnected');
    if (error) showError(error);
  });

  showState('Connecting');
  try {
    await connection.start();
    showState('Connected', connection.connectionId);
  } catch (error) {
    showState('Disconnected');
    throw error;
  }
}

/** SignalR's warnings, in the console; a message for a target nobody listens to is shown on the page too. */
function logToPage(level, message) {
  if (level >= signalR.LogLevel.Warning) console.warn(message);
  const unhandled = /^No client method with the name '(.*)' found\.$/.exec(message);
  if (unhandled) showMessage(unhandled[1], undefined);
}

// --- Rendering -----------------------------------------------------------------------------------------------

function showState(state, connectionId) {
  $('state').textContent = state;
  $('state').dataset.state = state;
  $('connection-id').textContent = connectionId ?? '–';
  if (state === 'Connected') $('error').hidden = true;
}

function showMessage(target, args) {
  const item = document.createElement('li');
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString();
  const name = document.createElement('span');
  name.className = 'target';
  name.textContent = target;
  const text = document.createElement('span');
  text.className = 'text';
  if (args === undefined) {
    text.classList.add('unhandled');
    text.textContent = `(no handler: add "${target}" to TARGETS in demo.js)`;
  } else {
    text.textContent = target === 'broadcastMessage' && args.length === 2 ? `${args[0]}: ${args[1]}` : JSON.stringify(args);
  }
  item.append(time, name, text);
  $('messages').prepend(item);
}

function showError(error) {
  $('error').textContent = error instanceof Error ? error.message : String(error);
  $('error').hidden = false;
}

// --- Helpers ---------------------------------------------------------------------------------------------------

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** The token's claims, for display only: the gateway verifies it, the page merely reads it. */
function claimsOf(token) {
  const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))));
}
