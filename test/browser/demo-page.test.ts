import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { http, startFullStack, type FullStack } from '../fixtures/stack.js';
import { launchChromium, logInAtSso, newPage, screenshot, type PageOptions } from './browser.js';
import { watchCspViolations } from './csp.js';

/** Content Security Policy violations on the gateway's own pages, from every page opened below. */
const cspViolations: string[][] = [];

/** Signs `user` in on the demo page at `origin` and waits until it is connected. */
async function openDemo(browser: Browser, origin: string, user: string, options?: PageOptions): Promise<Page> {
  const page = await newPage(browser, options);
  cspViolations.push(await watchCspViolations(page, origin));
  // Two-digit hours: the longest time the page shows.
  await page.clock.setFixedTime(new Date(2026, 0, 1, 22, 58, 58));
  await page.goto(`${origin}/demo/`);
  await page.locator('#sign-in').click();
  await logInAtSso(page, user);
  await page.waitForURL(`${origin}/demo/`);
  await connected(page);
  return page;
}

/** What a browser page's own fetch of negotiate ends in: the status, or the browser's refusal. */
const negotiateFrom = (page: Page, gatewayUrl: string) =>
  page.evaluate(
    (url) =>
      fetch(url, {
        method: 'POST',
        credentials: 'include',
        headers: { authorization: 'Bearer not-a-token', 'x-requested-with': 'XMLHttpRequest' },
      }).then(
        (response) => `status ${response.status}`,
        (error: Error) => `refused: ${error.message}`,
      ),
    `${gatewayUrl}/hubs/chat/negotiate`,
  );

/** What sticks out of the window on the right: nothing, on a page that fits its window. */
const overflowing = (page: Page) =>
  page.evaluate(() =>
    Array.from(document.querySelectorAll('body *'))
      .filter((element) => element.getBoundingClientRect().right > document.documentElement.clientWidth)
      .map((element) => element.id || element.className || element.tagName),
  );

/** How many lines each message's time takes. */
const timeLines = (page: Page) =>
  page.locator('#messages time').evaluateAll((times) =>
    times.map((time) => {
      const text = document.createRange();
      text.selectNodeContents(time);
      return text.getClientRects().length;
    }),
  );

const connected = (page: Page) => page.locator('#state[data-state="Connected"]').waitFor();
const messages = (page: Page) => page.locator('#messages li .text').allTextContents();
const hasMessage = (page: Page, text: string) => page.locator('#messages li .text', { hasText: text }).waitFor();

describe('the demo page in Chromium', () => {
  let stack: FullStack;
  let browser: Browser;
  let alice: Page;
  let bob: Page;

  before(async () => {
    stack = await startFullStack();
    browser = await launchChromium();
    alice = await openDemo(browser, stack.gatewayUrl, 'alice');
    bob = await openDemo(browser, stack.gatewayUrl, 'bob');
  });

  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** A broadcast after a targeted send: once it has arrived, the targeted message would have arrived before it. */
  async function marker(pages: Page[], text: string): Promise<void> {
    assert.equal((await stack.api('POST', '/api/hubs/chat/:send', { body: { target: 'broadcastMessage', arguments: ['marker', text] } })).status, 202);
    for (const page of pages) await hasMessage(page, `marker: ${text}`);
  }

  test('shows the signed-in user and the connection', async () => {
    assert.equal(await alice.locator('#user').textContent(), 'alice');
    assert.equal(await bob.locator('#user').textContent(), 'bob');
    assert.notEqual(await alice.locator('#connection-id').textContent(), '–');
  });

  test('a broadcast sent through the API with a service token appears on every page', async () => {
    const sent = await stack.api('POST', '/api/hubs/chat/:send', { body: { target: 'broadcastMessage', arguments: ['server', 'hello everyone'] } });
    assert.equal(sent.status, 202);
    await hasMessage(alice, 'server: hello everyone');
    await hasMessage(bob, 'server: hello everyone');
  });

  test("a send to user bob appears on bob's page only", async () => {
    const sent = await stack.api('POST', '/api/hubs/chat/users/bob/:send', { body: { target: 'broadcastMessage', arguments: ['server', 'just for bob'] } });
    assert.equal(sent.status, 202);
    await hasMessage(bob, 'server: just for bob');
    await marker([alice], 'after the send to bob');
    assert.ok(!(await messages(alice)).includes('server: just for bob'));
  });

  test("a group send reaches only the group's members", async () => {
    assert.equal((await stack.api('PUT', '/api/hubs/chat/users/alice/groups/readers')).status, 200);
    const sent = await stack.api('POST', '/api/hubs/chat/groups/readers/:send', { body: { target: 'broadcastMessage', arguments: ['server', 'for readers'] } });
    assert.equal(sent.status, 202);
    await hasMessage(alice, 'server: for readers');
    await marker([bob], 'after the group send');
    assert.ok(!(await messages(bob)).includes('server: for readers'));
  });

  test('any target is shown, with its arguments', async () => {
    await stack.api('POST', '/api/hubs/chat/users/alice/:send', { body: { target: 'newMessage', arguments: [{ id: 7 }, 'x'] } });
    await hasMessage(alice, '[{"id":7},"x"]');
    await stack.api('POST', '/api/hubs/chat/users/alice/:send', { body: { target: 'somethingElse', arguments: [] } });
    await hasMessage(alice, 'no handler: add "somethingElse"');
  });

  test('survives a reconnect: negotiates again and keeps receiving', async () => {
    const before = await alice.locator('#connection-id').textContent();
    assert.equal((await stack.api('POST', '/api/hubs/chat/users/alice/:closeConnections?reason=maintenance')).status, 204);
    await alice.waitForFunction((previous) => {
      const state = document.getElementById('state')!.dataset['state'];
      return state === 'Connected' && document.getElementById('connection-id')!.textContent !== previous;
    }, before);
    await stack.api('POST', '/api/hubs/chat/:send', { body: { target: 'broadcastMessage', arguments: ['server', 'after the reconnect'] } });
    await hasMessage(alice, 'server: after the reconnect');
  });

  test('works from a second origin listed in CORS_ORIGINS: negotiate crosses origins', async () => {
    const carol = await openDemo(browser, stack.secondOrigin, 'carol');
    assert.equal(await carol.locator('#gateway').textContent(), stack.gatewayUrl);
    await stack.api('POST', '/api/hubs/chat/users/carol/:send', { body: { target: 'broadcastMessage', arguments: ['server', 'hello carol'] } });
    await hasMessage(carol, 'server: hello carol');
    await screenshot(carol, 'demo-page-second-origin');
    await screenshot(alice, 'demo-page');
  });

  test('works at localhost too, not only at 127.0.0.1: the SSO knows both redirect URIs', async () => {
    const localhost = stack.gatewayUrl.replace('127.0.0.1', 'localhost');
    const dave = await openDemo(browser, localhost, 'dave');
    await stack.api('POST', '/api/hubs/chat/users/dave/:send', { body: { target: 'broadcastMessage', arguments: ['server', 'hello dave'] } });
    await hasMessage(dave, 'server: hello dave');
  });

  test('fits a 1,100 px window: every time on one line, in any language, nothing sticks out', async () => {
    // Spanish (US) writes one of the longest times in Latin script: "10:58:58 p.m.".
    const frank = await openDemo(browser, stack.gatewayUrl, 'frank', { locale: 'es-US' });
    await stack.api('POST', '/api/hubs/chat/users/frank/:send', { body: { target: 'broadcastMessage', arguments: ['server', 'hola frank'] } });
    await hasMessage(frank, 'server: hola frank');
    for (const page of [alice, frank]) {
      assert.deepEqual(new Set(await timeLines(page)), new Set([1]));
      assert.deepEqual(await overflowing(page), []);
    }
    await screenshot(frank, 'demo-page-1100px-es-US');
  });

  test('fits a 390 px phone: long messages wrap instead of sticking out', async () => {
    const erin = await openDemo(browser, stack.gatewayUrl, 'erin', { viewport: { width: 390, height: 844 } });
    const long = {
      body: { target: 'newMessage', arguments: [{ orderId: 'ord_4f9c2b7e1a3d4c5b8e6f7a9b0c1d2e3f', status: 'shipped-to-the-customer-warehouse' }] },
    };
    await stack.api('POST', '/api/hubs/chat/users/erin/:send', long);
    await stack.api('POST', '/api/hubs/chat/users/erin/:send', { body: { target: 'broadcastMessage', arguments: ['server', 'hello erin'] } });
    await hasMessage(erin, 'server: hello erin');
    assert.deepEqual(new Set(await timeLines(erin)), new Set([1]));
    assert.deepEqual(await overflowing(erin), []);
    await screenshot(erin, 'demo-page-390px');
  });

  test("the browser lets a listed origin read negotiate's answer and refuses it to others", async () => {
    const listed = await newPage(browser);
    await listed.goto(`${stack.secondOrigin}/demo/config.json`);
    assert.equal(await negotiateFrom(listed, stack.gatewayUrl), 'status 401');
    const unlisted = await newPage(browser);
    await unlisted.goto(`${stack.sso.issuer}/.well-known/openid-configuration`);
    assert.match(await negotiateFrom(unlisted, stack.gatewayUrl), /^refused: /);
  });

  test("the gateway's content security policy allows all of the above: sign-in, negotiate, the WebSocket to the service", async () => {
    const policy = (await http('GET', `${stack.gatewayUrl}/demo/`)).headers.get('content-security-policy') ?? '';
    assert.match(policy, /connect-src 'self' [^;]*ws:\/\/127\.0\.0\.1:/);
    assert.deepEqual(cspViolations.flat(), []);
  });
});
