// The console's frame, as a new admin meets it (issue 16): every page survives a reload and a
// bookmark, focus follows navigation, a skip link, a throttled login counts down, a readable
// header, a phone's one-line header with a navigation that shows there is more, and readers'
// page-level notice. axe-core checks each state.
import { expect, test } from '@playwright/test';
import {
  USER, adminAuth, expectAccessible, logIn, logInAs, makeCertificate, navigate, openConsole, tenantId, unique,
} from './support';

/** Every page of the console's navigation bar: its path and its heading. */
const PAGES: [string, string][] = [
  ['/trusted-certificates', 'Trusted certificates'],
  ['/devices', 'Devices'],
  ['/chain-doctor', 'Chain doctor'],
  ['/bulk-registration', 'Bulk registration'],
  ['/settings', 'Settings'],
  ['/users', 'Users'],
  ['/audit', 'Audit'],
  ['/alarms', 'Alarms'],
];

test('every page loads from a bookmark and on a reload, and passes axe', async ({ page }) => {
  await page.goto('/login');
  await expectAccessible(page, 'the login page');
  await logIn(page);
  for (const [path, heading] of PAGES) {
    // A bookmark: the address typed, nothing in memory.
    await page.goto(path);
    await expect(page.getByRole('heading', { name: heading, level: 1 }), path).toBeVisible();
    await page.reload();
    await expect(page.getByRole('heading', { name: heading, level: 1 }), `${path} reloaded`).toBeVisible();
    await expect(page).toHaveURL(new RegExp(`${path}$`));
    await expectAccessible(page, path);
  }
  // A page that does not exist says so, in the console.
  await page.goto('/no-such-page');
  await expect(page.getByRole('heading', { name: 'Page not found', level: 1 })).toBeVisible();
});

test('a bookmark of a page asks for a login and then shows that page', async ({ page }) => {
  await page.goto('/audit');
  await expect(page).toHaveURL(/\/login\?next=%2Faudit$/);
  await logIn(page, 'Audit');
  await expect(page).toHaveURL(/\/audit$/);
});

test('a bookmarked search survives the login: next keeps the query', async ({ page }) => {
  await page.goto('/devices?q=sensor%2001');
  await expect(page).toHaveURL(/\/login\?next=%2Fdevices%3Fq%3Dsensor%252001$/);
  await logIn(page, 'Devices');
  await expect(page).toHaveURL(/\/devices\?q=sensor%2001$/);
  await expect(page.getByRole('searchbox')).toHaveValue('sensor 01');
  // Only the console's own pages: an address elsewhere leads home.
  await page.context().clearCookies();
  await page.goto('/login?next=%2F%2Fexample.com%2Fdevices');
  await logIn(page);
  await expect(page).toHaveURL(/\/trusted-certificates$/);
});

test('focus moves to the page heading after login and on each navigation; a skip link leads past the header', async ({ page }) => {
  await page.goto('/');
  await logIn(page);
  await expect(page.getByRole('heading', { name: 'Trusted certificates', level: 1 })).toBeFocused();

  await navigate(page, 'Audit');
  await expect(page.getByRole('heading', { name: 'Audit', level: 1 })).toBeFocused();
  await navigate(page, 'Settings');
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeFocused();
  await page.goBack();
  await expect(page.getByRole('heading', { name: 'Audit', level: 1 })).toBeFocused();

  // A fresh load: the first Tab reaches the skip link, which is shown, and leads to the page.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Audit', level: 1 })).toBeVisible();
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press('Enter');
  // Focus is in the page: on <main>, or on its heading (the address's #main is a navigation).
  await expect.poll(() => page.evaluate(() => !!document.activeElement?.closest('main'))).toBe(true);
  await page.keyboard.press('Tab');
  // The next stop is inside the page, not in the header.
  expect(await page.evaluate(() => !!document.activeElement?.closest('main'))).toBe(true);
});

test('a throttled login counts down Retry-After with the button disabled', async ({ page }) => {
  await page.clock.install();
  // The server's answer to a throttled login (its real 429 is tested in server/tests/api).
  await page.route('**/tenant/oauth**', (route) =>
    route.fulfill({
      status: 429,
      headers: { 'Retry-After': '3', 'Content-Type': 'application/json' },
      body: JSON.stringify({ error: 'security/Too Many Requests', message: 'Too many failed logins; try again in 3 s.' }),
    }),
  );
  await page.goto('/login');
  await page.getByLabel('Username').fill(USER);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();

  await expect(page.getByRole('alert')).toHaveText('Too many failed logins from here: the next attempt is taken in 3 s.');
  const button = page.getByRole('button', { name: 'Try again in 3 s' });
  await expect(button).toBeDisabled();
  await expectAccessible(page, 'a throttled login');
  await page.clock.runFor(1000);
  await expect(page.getByRole('button', { name: 'Try again in 2 s' })).toBeDisabled();
  await page.clock.runFor(2000);
  await expect(page.getByRole('button', { name: 'Log in' })).toBeEnabled();
  // The password typed is kept: it was never checked.
  await expect(page.getByLabel('Password')).toHaveValue('not-the-password');
});

test('the header says who is logged in, in words', async ({ page, request }) => {
  const tenant = await tenantId(request);
  await openConsole(page);
  const banner = page.getByRole('banner');
  await expect(banner).toContainText(`${USER} · administrator · tenant ${tenant}`);
  await expect(banner).toContainText('Local mode');
  await expect(banner).not.toContainText(/admin · admin\b/);
});

test('on a phone the header is one line and the navigation shows that it scrolls', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openConsole(page);
  const brand = await page.getByRole('banner').getByRole('link', { name: 'anchorage' }).boundingBox();
  const logOut = await page.getByRole('button', { name: 'Log out' }).boundingBox();
  expect(brand && logOut).toBeTruthy();
  // Same line: their vertical centres within a few pixels.
  expect(Math.abs((brand!.y + brand!.height / 2) - (logOut!.y + logOut!.height / 2))).toBeLessThan(8);
  expect(logOut!.x + logOut!.width).toBeLessThanOrEqual(390);

  const nav = page.getByRole('navigation', { name: 'Main' });
  const scroll = await nav.evaluate((n) => ({ width: n.scrollWidth, visible: n.clientWidth, background: getComputedStyle(n).backgroundImage }));
  expect(scroll.width).toBeGreaterThan(scroll.visible);
  // The cue: shadows at the edges beyond which more items are.
  expect(scroll.background).toContain('gradient');
  // The last item can be reached.
  const last = nav.getByRole('link').last();
  await last.scrollIntoViewIfNeeded();
  await expect(last).toBeInViewport();
  // The page itself does not scroll sideways.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await expectAccessible(page, 'the home page on a phone');
});

test('a reader sees one read-only notice for the page', async ({ page, request }) => {
  const tenant = await tenantId(request);
  const name = `reader-${unique()}`;
  const made = await request.post(`/user/${tenant}/users`, {
    headers: { Authorization: adminAuth() },
    data: { userName: name, password: 'reader-password-1', role: 'reader' },
  });
  expect(made.status(), await made.text()).toBe(201);
  await page.goto('/');
  await logInAs(page, name, 'reader-password-1');
  const notice = page.getByRole('note');
  await expect(notice).toContainText('Read-only access.');
  await navigate(page, 'Audit');
  await expect(page.getByRole('note')).toContainText('Read-only access.');
  await expectAccessible(page, 'a reader on the audit page');

  // An admin sees no such notice.
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
  await page.goto('/login');
  await logIn(page);
  await expect(page.getByRole('note')).toHaveCount(0);
});

test('the header counts the active alarms and links to their list', async ({ page, request }) => {
  const tenant = await tenantId(request);
  // A CA that expires in 3 days raises an alarm (end2end/tests/alarms.spec.ts tests the list).
  const ca = makeCertificate('E2E Header alarm CA', { ca: true, days: 3 });
  const res = await request.post(`/tenant/tenants/${tenant}/trusted-certificates`, {
    headers: { Authorization: adminAuth(), Accept: 'application/json' },
    data: { name: ca.name, certInPemFormat: ca.pem, status: 'ENABLED', autoRegistrationEnabled: false },
  });
  expect(res.status(), await res.text()).toBe(201);
  const listed = await request.get('/alarm/alarms?status=ACTIVE&pageSize=1&withTotalElements=true', {
    headers: { Authorization: adminAuth() },
  });
  const total: number = (await listed.json()).statistics.totalElements;
  expect(total).toBeGreaterThan(0);

  await openConsole(page);
  const count = page.getByRole('banner').getByRole('link', { name: total === 1 ? '1 active alarm' : `${total} active alarms` });
  await expect(count).toBeVisible();
  await expectAccessible(page, 'the header with an alarm count');
  await count.click();
  await expect(page.getByRole('heading', { name: 'Alarms', level: 1 })).toBeVisible();
  await expect(page.getByText(ca.name).first()).toBeVisible();
});
