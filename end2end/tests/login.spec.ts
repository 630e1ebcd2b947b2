// Logging in and out of the console: a cookie session (HttpOnly), nothing in the browser's
// storage, and a session that ends elsewhere sends the page back to the login.
import { expect, test } from '@playwright/test';
import { USER, logIn, password } from './support';

test('a page that needs a login sends to /login and comes back after it', async ({ page }) => {
  await page.goto('/trusted-certificates');
  await expect(page).toHaveURL(/\/login\?next=%2Ftrusted-certificates$/);
  await expect(page.getByLabel('Tenant')).toHaveValue('');
  await logIn(page);
  await expect(page).toHaveURL(/\/trusted-certificates$/);
});

test('a wrong password is refused in words, the right one shows the console', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel('Username').fill(USER);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong user name or password.');
  await expect(page.getByRole('heading', { name: 'Trusted certificates' })).toHaveCount(0);

  await page.getByLabel('Password').fill(password());
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'Trusted certificates', level: 1 })).toBeVisible();
  const banner = page.getByRole('banner');
  await expect(banner).toContainText(USER);
  await expect(banner).toContainText('t100');
});

test('the tenant may be given, and log out forgets the credentials', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Tenant').fill('t100');
  await page.getByLabel('Username').fill(USER);
  await page.getByLabel('Password').fill(password());
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'Trusted certificates', level: 1 })).toBeVisible();

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goBack();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
});

test('the session is an HttpOnly cookie: a reload keeps the login, nothing is in storage, logout ends it', async ({ page, context }) => {
  await page.goto('/');
  await logIn(page);
  const storage = await page.evaluate(() => [localStorage.length, sessionStorage.length]);
  expect(storage).toEqual([0, 0]);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'authorization');
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe('Strict');
  // The page's script sees the XSRF token only, never the session.
  const visible = await page.evaluate(() => document.cookie);
  expect(visible).toContain('XSRF-TOKEN=');
  expect(visible).not.toContain('authorization');
  expect(visible).not.toContain(password());

  await page.reload();
  await expect(page.getByRole('heading', { name: 'Trusted certificates', level: 1 })).toBeVisible();
  await expect(page).toHaveURL(/\/trusted-certificates$/);
  await expect(page.getByRole('banner')).toContainText(USER);
  expect(await page.evaluate(() => [localStorage.length, sessionStorage.length])).toEqual([0, 0]);

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  expect((await context.cookies()).filter((c) => c.name === 'authorization')).toEqual([]);
  await page.reload();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
  await expect(page).toHaveURL(/\/login$/);
});

test('a session ended elsewhere sends the next action to the login page, which comes back after it', async ({ page, context }) => {
  await page.goto('/');
  await logIn(page);

  // Another tab of the same browser logs out through the API.
  const other = await context.newPage();
  await other.goto('/trusted-certificates');
  await expect(other.getByRole('heading', { name: 'Trusted certificates', level: 1 })).toBeVisible();
  const status = await other.evaluate(async () => {
    const xsrf = document.cookie.split('; ').find((c) => c.startsWith('XSRF-TOKEN='))?.slice('XSRF-TOKEN='.length) ?? '';
    const res = await fetch('/user/logout', { method: 'POST', headers: { 'X-XSRF-TOKEN': xsrf, UseXBasic: 'true' } });
    return res.status;
  });
  expect(status).toBe(204);
  await other.close();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await expect(page).toHaveURL(/\/login\?next=%2Fsettings$/);
  await expect(page.getByRole('status').filter({ hasText: 'Your session has ended. Log in again.' })).toBeVisible();
  await logIn(page, 'Settings');
});

test('a change without the XSRF token is refused, with it accepted', async ({ page }) => {
  await page.goto('/');
  await logIn(page);
  const statuses = await page.evaluate(async () => {
    const xsrf = document.cookie.split('; ').find((c) => c.startsWith('XSRF-TOKEN='))?.slice('XSRF-TOKEN='.length) ?? '';
    const put = (headers: Record<string, string>) =>
      fetch('/tenant/options/oauth.internal/device-token.lifespan.seconds', {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', UseXBasic: 'true', ...headers },
        body: JSON.stringify({ value: '3600' }),
      }).then((r) => r.status);
    return [await put({}), await put({ 'X-XSRF-TOKEN': 'forged' }), await put({ 'X-XSRF-TOKEN': xsrf })];
  });
  expect(statuses).toEqual([403, 403, 200]);
});
