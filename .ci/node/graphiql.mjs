// GraphiQL in a real headless browser (Debian's Chromium, driven by playwright-core): the page
// loads with no request leaving the server (any other origin is refused and reported), the
// schema loads (the docs explorer lists the root types; completion proposes fields), the
// welcome tabs are there, and the first example query runs and shows Rennes.
// Usage: node graphiql.mjs http://127.0.0.1:PORT/graphql (SCREENSHOT=file.png keeps a picture)
import { chromium } from 'playwright-core';

const url = process.argv[2];
const origin = new URL(url).origin;
const fail = (message) => {
  console.error(`GraphiQL check failed: ${message}`);
  process.exit(1);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const context = await browser.newContext();
  const served = [];
  const outside = [];
  await context.route('**/*', (route) => {
    const target = route.request().url();
    if (target.startsWith(`${origin}/`)) {
      served.push(target);
      return route.continue();
    }
    outside.push(target);
    return route.abort();
  });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });

  const response = await page.goto(url, { waitUntil: 'load' });
  if (response?.status() !== 200) fail(`the page answered ${response?.status()}`);

  // The welcome tabs: Rennes, waste collection in Vitré, the change feed.
  await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
  const tabs = await page.locator('.graphiql-tab').count();
  if (tabs < 3) fail(`${tabs} tabs, expected the 3 welcome tabs`);

  // The schema: the docs explorer lists the root types once introspection has answered.
  await page.getByRole('button', { name: /documentation explorer/i }).click();
  const docs = page.locator('.graphiql-doc-explorer');
  await docs.getByText('Root Types').waitFor({ timeout: 30_000 });
  await docs.getByText('Query', { exact: true }).first().waitFor();

  // Completion from the schema: typing a field's start proposes it.
  const editor = page.locator('.graphiql-query-editor .CodeMirror').first();
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\n{ terr');
  const hint = page.locator('.CodeMirror-hint', { hasText: 'territoryProfile' });
  await hint.first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Escape');
  for (let i = 0; i < '\n{ terr'.length; i++) await page.keyboard.press('Backspace');

  // The first example runs (Ctrl-Enter would ask which operation; the button runs the
  // operation under the cursor's tab, which holds one).
  await page.locator('.graphiql-execute-button').click();
  const result = page.locator('.result-window');
  await result.getByText('"Rennes"').first().waitFor({ timeout: 30_000 });
  const text = await result.innerText();
  if (!text.includes('"COMMUNE"')) fail(`unexpected result: ${text.slice(0, 400)}`);

  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
  if (outside.length > 0) fail(`requests left the server: ${outside.join(', ')}`);
  if (problems.length > 0) fail(problems.join('\n'));
  console.log(
    `GraphiQL in Chromium: loaded with ${served.length} requests, all to ${origin}; ` +
      `${tabs} tabs; schema in the docs; completion; the Rennes example ran`,
  );
} finally {
  await browser.close();
}
