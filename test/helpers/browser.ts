/**
 * Real Chromium for the login tests (dev/chromium.ts). Requests to anything but loopback are
 * refused inside the browser, so no test depends on the network.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumInstalled, launchChromium } from '../../dev/chromium.js';
import { DEFAULT_TEST_PASSWORD } from '../../dev/provider/provider.js';

export { chromiumInstalled, launchChromium };

export async function loopbackContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.route(
    (url) => !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname),
    (route) => route.abort(),
  );
  return context;
}

/** Opens an authorization URL and logs in (or cancels) on the provider's page, as a person would. */
export async function logInWithBrowser(page: Page, url: string, options: { login?: string; deny?: boolean } = {}): Promise<void> {
  await page.goto(url);
  if (options.deny) {
    await page.click('button[value=deny]');
    return;
  }
  await page.fill('input[name=login]', options.login ?? 'alice@example.test');
  await page.fill('input[name=password]', DEFAULT_TEST_PASSWORD);
  await page.click('button[value=login]');
}

/** Approves a device code from its complete verification URL: confirm, then log in. */
export async function approveDevice(page: Page, url: string, options: { deny?: boolean } = {}): Promise<void> {
  await page.goto(url);
  await page.click('button[autofocus]'); // "Continue" on the confirmation page
  if (options.deny) {
    await page.click('button[value=deny]');
    return;
  }
  await page.fill('input[name=login]', 'device-user@example.test');
  await page.fill('input[name=password]', DEFAULT_TEST_PASSWORD);
  await page.click('button[value=login]');
}
