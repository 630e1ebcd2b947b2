// The settings page: the device-token lifespan, checked in the browser with the shared rule
// and stored as the tenant option oauth.internal / device-token.lifespan.seconds.
import { Request, expect, test } from '@playwright/test';
import { adminAuth, navigate, openConsole, reloadPage } from './support';

const OPTION = '/tenant/options/oauth.internal/device-token.lifespan.seconds';

test('without the option the default is shown; a new lifespan persists after a reload', async ({ page, request }) => {
  const removed = await request.delete(OPTION, { headers: { Authorization: adminAuth() } });
  expect([204, 404]).toContain(removed.status());

  await openConsole(page);
  await navigate(page, 'Settings');
  const card = page.getByRole('region', { name: 'Device access tokens' });
  const field = card.getByLabel('Token lifespan (seconds)');
  await expect(field).toHaveValue('3600');
  await expect(card.getByText('default', { exact: true })).toBeVisible();
  await expect(card).toContainText('= 1 h');
  await expect(card).toContainText('may fetch a new one once half of the lifetime has passed');

  await field.fill('5400');
  await expect(card).toContainText('= 1 h 30 min');
  await card.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Settings saved.' })).toBeVisible();
  await expect(card.getByText('default', { exact: true })).toHaveCount(0);

  await reloadPage(page, 'Settings');
  await expect(page.getByLabel('Token lifespan (seconds)')).toHaveValue('5400');
  const stored = await request.get(OPTION, { headers: { Authorization: adminAuth() } });
  expect((await stored.json()).value).toBe('5400');
});

test('a lifespan below five minutes is refused in the browser and nothing is sent', async ({ page }) => {
  const puts: string[] = [];
  page.on('request', (r: Request) => {
    if (r.method() === 'PUT' && r.url().includes('/tenant/options')) puts.push(r.url());
  });
  await openConsole(page);
  await navigate(page, 'Settings');
  const card = page.getByRole('region', { name: 'Device access tokens' });
  const field = card.getByLabel('Token lifespan (seconds)');
  await expect(field).not.toHaveValue('');
  await field.fill('120');
  await expect(card.getByRole('alert')).toHaveText(/must be at least 300 seconds \(5 minutes\), not 120/);
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  const save = card.getByRole('button', { name: 'Save' });
  await expect(save).toBeDisabled();
  // Enter would submit the form; it must not send anything either.
  await field.press('Enter');

  // A request made after the attempts: anything they had sent would have gone before it.
  const listed = page.waitForResponse((r) => r.url().includes('/inventory/managedObjects'));
  await navigate(page, 'Devices');
  await listed;
  expect(puts).toEqual([]);
});
