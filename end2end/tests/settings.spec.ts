// The settings page: the device-token lifespan, checked in the browser with the shared rule
// and stored as the tenant option oauth.internal / device-token.lifespan.seconds.
import { Request, expect, test } from '@playwright/test';
import { adminAuth, expectAccessible, navigate, openConsole, reloadPage } from './support';

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

const ALARM_WINDOW = '/tenant/options/configuration/alarms.expiry.window.days';

test('each setting shows its range and presets before typing, and its messages name it, not its option key', async ({ page, request }) => {
  for (const option of [OPTION, ALARM_WINDOW]) {
    const removed = await request.delete(option, { headers: { Authorization: adminAuth() } });
    expect([204, 404]).toContain(removed.status());
  }
  await openConsole(page);
  await navigate(page, 'Settings');
  const tokens = page.getByRole('region', { name: 'Device access tokens' });
  const field = tokens.getByLabel('Token lifespan (seconds)');
  await expect(field).toHaveValue('3600');
  // Before anything is typed: the allowed range, the default and the presets.
  await expect(tokens).toContainText('Allowed: 5 min to 365 d (300 to 31,536,000 seconds). Default: 1 h.');
  const presets = tokens.getByRole('group', { name: 'Token lifespan presets' });
  await expect(presets.getByRole('button')).toHaveText(['15 min', '1 h', '1 day', '7 days']);
  await expect(presets.getByRole('button', { name: '1 h' })).toHaveAttribute('aria-pressed', 'true');
  await expectAccessible(page, 'settings: ranges and presets');

  await presets.getByRole('button', { name: '1 day' }).click();
  await expect(field).toHaveValue('86400');
  await expect(tokens).toContainText('= 1 d');
  await expect(presets.getByRole('button', { name: '1 day' })).toHaveAttribute('aria-pressed', 'true');

  // A value out of range: said with the setting's name, never its key.
  await field.fill('120');
  const problem = tokens.getByRole('alert');
  await expect(problem).toHaveText('The token lifespan must be at least 300 seconds (5 minutes), not 120.');
  await field.fill('1.5');
  await expect(problem).toContainText('The token lifespan must be a whole number of seconds');
  await expect(tokens).not.toContainText('device-token.lifespan.seconds');
  await expectAccessible(page, 'settings: a lifespan refused');

  // The expiry alarms' window: the same, and it is saved.
  const alarms = page.getByRole('region', { name: 'Expiry alarms' });
  const window = alarms.getByLabel('Alarm window (days)');
  await expect(window).toHaveValue('30');
  await expect(alarms).toContainText('Allowed: 1 day to 365 days. Default: 30 days.');
  await window.fill('0');
  await expect(alarms.getByRole('alert')).toHaveText(/^The alarm window must be a whole number of days from 1 to 365/);
  await expect(alarms).not.toContainText('alarms.expiry.window.days');
  await alarms.getByRole('group', { name: 'Alarm window presets' }).getByRole('button', { name: '90 days' }).click();
  await expect(window).toHaveValue('90');
  await alarms.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Settings saved.' })).toBeVisible();
  const stored = await request.get(ALARM_WINDOW, { headers: { Authorization: adminAuth() } });
  expect((await stored.json()).value).toBe('90');
  expect((await request.delete(ALARM_WINDOW, { headers: { Authorization: adminAuth() } })).status()).toBe(204);

  // Proof of possession can be required from here.
  const pop = page.getByRole('region', { name: 'Trusted certificates' });
  await expect(pop.getByRole('switch', { name: 'Require proof of possession' })).toBeVisible();
  await expectAccessible(page, 'settings: alarm window saved');
});
