// Logging in and out of the console; credentials live in memory only.
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

test('nothing about the session is stored in the browser', async ({ page, context }) => {
  await page.goto('/');
  await logIn(page);
  const storage = await page.evaluate(() => [localStorage.length, sessionStorage.length]);
  expect(storage).toEqual([0, 0]);
  expect(await context.cookies()).toEqual([]);
  await page.reload();
  await expect(page).toHaveURL(/\/login/);
});
