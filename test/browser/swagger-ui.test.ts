import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { http, startFullStack, type FullStack } from '../fixtures/stack.js';
import { launchChromium, logInAtSso, newPage, screenshot } from './browser.js';
import { watchCspViolations } from './csp.js';

describe('Swagger UI at /docs in Chromium', () => {
  let stack: FullStack;
  let browser: Browser;
  let page: Page;
  let cspViolations: string[];

  before(async () => {
    stack = await startFullStack();
    browser = await launchChromium();
    page = await newPage(browser);
    cspViolations = await watchCspViolations(page, stack.gatewayUrl);
  });

  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  test("loads the gateway's API, shown at /docs/ so that its OAuth2 redirect URI is /docs/oauth2-redirect.html", async () => {
    await page.goto(`${stack.gatewayUrl}/docs`);
    await page.locator('.swagger-ui .info .title', { hasText: 'SignalR Gateway' }).waitFor();
    await page.locator('#operations-negotiate-negotiate').waitFor();
    assert.equal(page.url(), `${stack.gatewayUrl}/docs/`);
  });

  test('shows the version package.json says', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    assert.equal((await page.locator('.swagger-ui .info .title .version').first().textContent())?.trim(), version);
  });

  test('its icons exist, whether the page is opened as /docs or /docs/', async () => {
    for (const address of [`${stack.gatewayUrl}/docs`, `${stack.gatewayUrl}/docs/`]) {
      const html = await (await page.request.get(address)).text();
      const icons = [...html.matchAll(/<link rel=["']icon["'][^>]*href=["']([^"']+)["']/g)].map(([, href]) => new URL(href, address));
      assert.notEqual(icons.length, 0);
      for (const icon of icons) {
        const response = await page.request.get(icon.href);
        assert.equal(response.status(), 200, `${icon.href} from ${address}`);
        assert.equal(response.headers()['content-type'], 'image/png');
      }
    }
  });

  test('Authorize with the defaults signs in with the SSO in one click (authorization code + PKCE, every permission)', async () => {
    await page.locator('.auth-wrapper button.authorize').click();
    // Only the flow a browser can use: client credentials needs a service's secret.
    const schemes = await page.locator('.auth-container h4').allTextContents();
    assert.deepEqual(
      schemes.map((scheme) => scheme.replace(/\s+/g, ' ').trim()),
      ['sso (http, Bearer)', 'sso-oauth2 (OAuth2, authorizationCode with PKCE)'],
    );
    const flow = page.locator('.auth-container', { hasText: 'Flow: authorizationCode with PKCE' });
    assert.equal(await flow.locator('input#client_id_authorizationCode').inputValue(), stack.sso.frontend.clientId);
    const [popup] = await Promise.all([page.waitForEvent('popup'), flow.locator('button.authorize').click()]);
    const closed = popup.waitForEvent('close');
    await logInAtSso(popup, 'alice');
    await closed;
    await flow.locator('button', { hasText: 'Logout' }).waitFor();
    await page.locator('.dialog-ux button.close-modal').click();
  });

  test('Try it out on broadcast answers 202', async () => {
    const operation = page.locator('#operations-hubs-broadcast');
    await operation.locator('.opblock-summary').click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('input[placeholder="hub"]').fill('chat');
    await operation.locator('textarea.body-param__text').fill(JSON.stringify({ target: 'broadcastMessage', arguments: ['swagger', 'hello'] }));
    await operation.locator('button.execute').click();
    const status = operation.locator('.live-responses-table .response .response-col_status');
    await status.waitFor();
    assert.equal((await status.textContent())?.trim(), '202');
    await operation.locator('.live-responses-table').scrollIntoViewIfNeeded();
    await screenshot(page, 'swagger-ui', { fullPage: false });
  });

  test("the gateway's content security policy allows all of the above, the OAuth2 redirect page included", async () => {
    for (const path of ['/docs/', '/docs/oauth2-redirect.html']) {
      assert.match((await http('GET', stack.gatewayUrl + path)).headers.get('content-security-policy') ?? '', /script-src 'self'/, path);
    }
    assert.deepEqual(cspViolations, []);
  });
});
