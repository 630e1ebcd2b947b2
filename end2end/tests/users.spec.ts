// The users page and reader mode: an admin adds users (checked in the browser with the shared
// rules first) and changes their role, password and enabled state; a reader sees every control
// that would change something disabled, with the reason as its tooltip, and the server refuses
// their changes anyway.
import { Page, Request, expect, test } from '@playwright/test';
import {
  USER, adminAuth, basic, logInAs, makeCertificate, navigate, openConsole, tempFile, tenantId, unique, uploadViaApi,
} from './support';

const READ_ONLY = 'Read-only: your role is reader';

/** Expects `control` to be disabled and to say why. */
async function expectReadOnly(control: ReturnType<Page['locator']>): Promise<void> {
  await expect(control).toBeDisabled();
  await expect(control).toHaveAttribute('title', READ_ONLY);
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
    await expectReadOnly(reader.getByRole('button', { name: 'Save' }));

    await navigate(reader, 'Bulk registration');
    const csv = tempFile('reader.csv', `ID;AUTH_TYPE;CREDENTIALS\ne2e-reader-${unique()};CERTIFICATES;\n`);
    await reader.getByLabel('CSV file').setInputFiles(csv);
    await expectReadOnly(reader.getByRole('button', { name: 'Register 1 device' }));

    await navigate(reader, 'Users');
    await expectReadOnly(reader.getByRole('button', { name: 'Add user' }));
    for (const user of [USER, name]) {
      await expectReadOnly(reader.getByLabel(`Role of ${user}`));
      await expectReadOnly(reader.getByRole('switch', { name: `Enabled: ${user}` }));
      await expectReadOnly(reader.getByRole('button', { name: `Reset password of ${user}` }));
    }

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

test('an admin changes a role, resets a password and disables a user; the last admin stays one', async ({ page, request }) => {
  const tenant = await tenantId(request);
  const headers = { Authorization: adminAuth() };
  // No other enabled admin, so that the test admin is the last one.
  const all = await (await request.get(`/user/${tenant}/users?pageSize=2000`, { headers })).json();
  for (const u of all.users) {
    if (u.userName !== USER && u.role === 'admin' && u.enabled) {
      const res = await request.put(`/user/${tenant}/users/${encodeURIComponent(u.userName)}`, { headers, data: { role: 'reader' } });
      expect(res.status()).toBe(200);
    }
  }
  const name = `operator-${unique()}`;
  const made = await request.post(`/user/${tenant}/users`, { headers, data: { userName: name, password: 'first-password', role: 'reader' } });
  expect(made.status(), await made.text()).toBe(201);
  const stored = async () => (await request.get(`/user/${tenant}/users/${name}`, { headers })).json();

  await openConsole(page);
  await navigate(page, 'Users');

  // Refused in words; the select goes back.
  const own = page.getByLabel(`Role of ${USER}`);
  await own.selectOption('reader');
  await expect(page.getByRole('alert')).toContainText('The last enabled admin cannot be demoted or disabled.');
  await expect(own).toHaveValue('admin');
  await expect(page.getByRole('banner')).toContainText('admin');

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

  const enabled = page.getByRole('switch', { name: `Enabled: ${name}` });
  await enabled.click();
  await expect(enabled).not.toBeChecked();
  expect((await stored()).enabled).toBe(false);
  await page.reload();
  await expect(page.getByRole('switch', { name: `Enabled: ${name}` })).not.toBeChecked();
});
