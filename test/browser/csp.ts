import type { Page } from 'playwright-core';

/**
 * Collects every Content Security Policy violation reported on pages of `origin` in this page's browser context,
 * popups included (Swagger UI's OAuth2 redirect page): the browser's console errors and `securitypolicyviolation` events.
 * Call before the first navigation.
 */
export async function watchCspViolations(page: Page, origin: string): Promise<string[]> {
  const violations: string[] = [];
  const context = page.context();
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`securitypolicyviolation: ${event.violatedDirective} blocked ${event.blockedURI}`);
    });
  });
  context.on('console', (message) => {
    const from = message.page()?.url() ?? '';
    if (from.startsWith(origin) && /securitypolicyviolation|Content Security Policy/i.test(message.text())) violations.push(`${from}: ${message.text()}`);
  });
  return violations;
}
