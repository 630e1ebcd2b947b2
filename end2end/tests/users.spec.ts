// The users page and reader mode: an admin adds users (checked in the browser with the shared
// rules first) and changes their role, password and enabled state; a reader sees every control
// that would change something disabled (the page's read-only notice says why, not a tooltip per
// control), and the server refuses their changes anyway. Nobody demotes or disables
// themselves; demoting or disabling another admin asks first; everyone, readers too, changes
// their own password in "Your account".
import { Page, Request, expect, test } from '@playwright/test';
import {
  USER, adminAuth, basic, expectAccessible, logInAs, makeCertificate, navigate, openConsole, tempFile, tenantId, unique,
  uploadViaApi,
} from './support';

const OWN_ACCOUNT_RULE = 'You cannot change your own role or disable yourself; another admin can.';

/** Expects `control` to be disabled. */
async function expectReadOnly(control: ReturnType<Page['locator']>): Promise<void> {
  await expect(control).toBeDisabled();
}

/** Expects `control` on the users page to be disabled without a per-control tooltip. */
async function expectReadOnlyHere(control: ReturnType<Page['locator']>): Promise<void> {
  await expect(control).toBeDisabled();
  await expect(control).not.toHaveAttribute('title', /.+/);
}

test('an admin adds a reader, who sees every change control disabled with the reason', async ({ page, request, browser }) => {
  const name = `reader-${unique()}`;
  const secret = 'reader-password-1';
  const ca = makeCertificate('E2E Reader CA', { ca: true });
  await uploadViaApi(request, ca);

  await openConsole(page);
  await expect(page.getByRole('banner')).toContainText('admin');
  await navigate(page, 'Users');
  await expect(page.getByRole('row').filter({ has: page.getByLabel(`Role of ${USER}`) })).toContainText('you');

  // Checked in the browser first: nothing is sent.
  const posts: string[] = [];
  page.on('request', (r: Request) => {
    if (r.method() === 'POST' && r.url().includes('/users')) posts.push(r.url());
  });
  await page.getByRole('button', { name: 'Add user' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add user' });
  await dialog.getByLabel('User name').fill('has space');
  await dialog.getByLabel('Password').fill('short');
  await dialog.getByRole('button', { name: 'Add user' }).click();
  await expect(dialog.getByText("User name must not contain whitespace, '/' or ':'.")).toBeVisible();
  await expect(dialog.getByText('Password must have at least 8 characters.')).toBeVisible();
  expect(posts).toEqual([]);

  await dialog.getByLabel('User name').fill(name);
  await dialog.getByLabel('Password').fill(secret);
  await dialog.getByLabel('Role').selectOption('reader');
  const created = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/users'));
  await dialog.getByRole('button', { name: 'Add user' }).click();
  expect((await created).status()).toBe(201);
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: `User “${name}” created.` })).toBeVisible();
  await expect(page.getByLabel(`Role of ${name}`)).toHaveValue('reader');
  await expect(page.getByRole('switch', { name: `Enabled: ${name}` })).toBeChecked();

  // The reader, in a browser of their own.
  const context = await browser.newContext();
  try {
    const reader = await context.newPage();
    await reader.goto('/');
    await logInAs(reader, name, secret);
    const banner = reader.getByRole('banner');
    await expect(banner).toContainText(name);
    await expect(banner).toContainText('reader');

    await expectReadOnly(reader.getByRole('button', { name: 'Add trusted certificate' }));
    await expectReadOnly(reader.getByRole('switch', { name: `Enabled: ${ca.name}` }));
    await expectReadOnly(reader.getByRole('switch', { name: `Auto registration: ${ca.name}` }));
    await expectReadOnly(reader.getByRole('button', { name: `Delete ${ca.name}` }));
    await reader.getByRole('button', { name: `Details of ${ca.name}` }).click();
    await expectReadOnly(reader.getByRole('button', { name: 'Save', exact: true }));
    await expect(reader.getByLabel('Certificate name')).not.toBeEditable();
    // Looking is allowed.
    await expect(reader.getByRole('button', { name: 'Copy PEM' })).toBeEnabled();

    await navigate(reader, 'Settings');
    const saves = reader.getByRole('button', { name: 'Save' });
    await expect(saves.first()).toBeVisible();
    for (const save of await saves.all()) await expectReadOnly(save);

    await navigate(reader, 'Bulk registration');
    const csv = tempFile('reader.csv', `ID;AUTH_TYPE;CREDENTIALS\ne2e-reader-${unique()};CERTIFICATES;\n`);
    await reader.getByLabel('CSV file').setInputFiles(csv);
    await expectReadOnly(reader.getByRole('button', { name: 'Register 1 device' }));

    await navigate(reader, 'Users');
    await expect(reader.getByRole('note')).toContainText('Read-only access.');
    await expectReadOnlyHere(reader.getByRole('button', { name: 'Add user' }));
    for (const user of [USER, name]) {
      await expectReadOnlyHere(reader.getByLabel(`Role of ${user}`));
      await expectReadOnlyHere(reader.getByRole('switch', { name: `Enabled: ${user}` }));
    }
    await expectReadOnlyHere(reader.getByRole('button', { name: `Reset password of ${USER}` }));
    await expectAccessible(reader, 'the users page of a reader');

    // A reader changes their own password, with the current one.
    const account = reader.getByRole('region', { name: 'Your account' });
    await account.getByLabel('Current password').fill('not-my-password');
    await account.getByLabel('New password', { exact: true }).fill('reader-password-2');
    await account.getByLabel('New password again').fill('reader-password-2');
    await account.getByRole('button', { name: 'Change password' }).click();
    await expect(account.getByRole('alert')).toContainText('The current password is not correct.');
    await expectAccessible(reader, 'a refused change of the own password');
    await account.getByLabel('Current password').fill(secret);
    await account.getByRole('button', { name: 'Change password' }).click();
    await expect(reader.getByRole('status').filter({ hasText: 'Your password was changed.' })).toBeVisible();
    await expect(account.getByLabel('Current password')).toHaveValue('');
    const check = (pw: string) => reader.request.get('/user/currentUser', { headers: { Authorization: basic(name, pw) } });
    expect((await check(secret)).status()).toBe(401);
    expect((await check('reader-password-2')).status()).toBe(200);
    // This session stays.
    await reader.reload();
    await expect(reader.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();

    // The server refuses a reader's change whatever the page shows.
    const status = await reader.evaluate(async () => {
      const xsrf = document.cookie.split('; ').find((c) => c.startsWith('XSRF-TOKEN='))?.slice('XSRF-TOKEN='.length) ?? '';
      const res = await fetch('/tenant/options/oauth.internal/device-token.lifespan.seconds', {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', 'X-XSRF-TOKEN': xsrf, UseXBasic: 'true' },
        body: JSON.stringify({ value: '3600' }),
      });
      return res.status;
    });
    expect(status).toBe(403);
  } finally {
    await context.close();
  }
});

test('an admin changes a role, resets a password and disables a user, but not themselves', async ({ page, request }) => {
  const tenant = await tenantId(request);
  const headers = { Authorization: adminAuth() };
  const name = `operator-${unique()}`;
  const made = await request.post(`/user/${tenant}/users`, { headers, data: { userName: name, password: 'first-password', role: 'reader' } });
  expect(made.status(), await made.text()).toBe(201);
  const stored = async () => (await request.get(`/user/${tenant}/users/${name}`, { headers })).json();

  await openConsole(page);
  await navigate(page, 'Users');

  // The own role and enabled controls are disabled, with the reason beside them.
  const own = page.getByLabel(`Role of ${USER}`);
  await expect(own).toBeDisabled();
  await expect(own).toHaveAccessibleDescription(OWN_ACCOUNT_RULE);
  await expect(page.getByRole('switch', { name: `Enabled: ${USER}` })).toBeDisabled();
  await expect(page.getByText(OWN_ACCOUNT_RULE)).toBeVisible();
  await expectAccessible(page, 'the users page of an admin');
  // The server refuses it too.
  const self = await request.put(`/user/${tenant}/users/${USER}`, { headers, data: { enabled: false } });
  expect(self.status()).toBe(422);
  expect((await self.json()).message).toBe(OWN_ACCOUNT_RULE);

  await page.getByLabel(`Role of ${name}`).selectOption('admin');
  await expect(page.getByRole('status').filter({ hasText: `“${name}” is now admin.` })).toBeVisible();
  expect((await stored()).role).toBe('admin');

  const line = page.getByRole('row').filter({ has: page.getByLabel(`Role of ${name}`) });
  await page.getByRole('button', { name: `Reset password of ${name}` }).click();
  const dialog = page.getByRole('dialog', { name: `Reset the password of ${name}` });
  await dialog.getByLabel('New password').fill('short');
  await dialog.getByRole('button', { name: 'Save password' }).click();
  await expect(dialog.getByText('Password must have at least 8 characters.')).toBeVisible();
  await dialog.getByLabel('New password').fill('second-password');
  await dialog.getByRole('button', { name: 'Save password' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: `Password of “${name}” changed.` })).toBeVisible();
  await expect(line).toContainText('UTC');
  const check = await request.get('/user/currentUser', { headers: { Authorization: basic(name, 'second-password') } });
  expect(check.status()).toBe(200);

  // Demoting another admin asks first, naming them and what they lose; cancelling keeps them.
  const role = page.getByLabel(`Role of ${name}`);
  await role.selectOption('reader');
  const demote = page.getByRole('dialog', { name: `Make ${name} a reader?` });
  await expect(demote).toContainText(`${name} loses write access`);
  await expectAccessible(page, 'the confirmation of demoting another admin');
  await demote.getByRole('button', { name: 'Cancel' }).click();
  await expect(demote).toBeHidden();
  await expect(role).toHaveValue('admin');
  expect((await stored()).role).toBe('admin');

  // Disabling another admin asks first too; confirmed, it is done.
  const enabled = page.getByRole('switch', { name: `Enabled: ${name}` });
  await enabled.click();
  const disable = page.getByRole('dialog', { name: `Disable ${name}?` });
  await expect(disable).toContainText('their open sessions end now');
  await disable.getByRole('button', { name: `Disable ${name}` }).click();
  await expect(disable).toBeHidden();
  await expect(enabled).not.toBeChecked();
  expect((await stored()).enabled).toBe(false);
  await page.reload();
  await expect(page.getByRole('switch', { name: `Enabled: ${name}` })).not.toBeChecked();

  // A disabled admin is no longer one that can act: making them a reader asks nothing.
  await page.getByLabel(`Role of ${name}`).selectOption('reader');
  await expect(page.getByRole('status').filter({ hasText: `“${name}” is now reader.` })).toBeVisible();
});

test('an admin changes their own password in Your account and stays logged in', async ({ page, request }) => {
  const tenant = await tenantId(request);
  const headers = { Authorization: adminAuth() };
  const name = `self-${unique()}`;
  const made = await request.post(`/user/${tenant}/users`, { headers, data: { userName: name, password: 'self-password-1', role: 'admin' } });
  expect(made.status(), await made.text()).toBe(201);
  await page.goto('/');
  await logInAs(page, name, 'self-password-1');
  await navigate(page, 'Users');
  // The own row points to Your account instead of resetting without the current password.
  await page.getByRole('button', { name: 'Change your password' }).click();
  const account = page.getByRole('region', { name: 'Your account' });
  await expect(account.getByLabel('Current password')).toBeFocused();
  await account.getByLabel('Current password').fill('self-password-1');
  await account.getByLabel('New password', { exact: true }).fill('self-password-2');
  await account.getByLabel('New password again').fill('self-password-3');
  await account.getByRole('button', { name: 'Change password' }).click();
  await expect(account.getByRole('alert')).toContainText('The two new passwords differ.');
  await account.getByLabel('New password again').fill('self-password-2');
  await account.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Your password was changed.' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
  const check = (pw: string) => request.get('/user/currentUser', { headers: { Authorization: basic(name, pw) } });
  expect((await check('self-password-2')).status()).toBe(200);
});
