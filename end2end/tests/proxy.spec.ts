// Proxy mode, end to end: anchorage A plays the platform; anchorage B runs with --upstream A
// (A's TLS listener, trusting A's local CA) and serves the console. Everything done through B's
// console lands in A; when A is down, B's pages say so in words; when A is back, B works again
// without a restart. Both processes are this file's own and are stopped in afterAll.
import * as path from 'node:path';
import { expect, test } from '@playwright/test';
import { Server, freePort } from './servers';
import { USER, basic, logInAs, makeCertificate, navigate, row } from './support';

const PLATFORM_PASSWORD = 'e2e-platform-password';
const auth = { Authorization: basic(USER, PLATFORM_PASSWORD), Accept: 'application/json' };

let platform: Server;
let proxy: Server;
let upstream: string;

test.beforeAll(async () => {
  const devicePort = await freePort();
  upstream = `https://localhost:${devicePort}`;
  platform = await Server.create({
    name: 'the platform (A)',
    env: { ANCHORAGE_ADMIN_PASSWORD: PLATFORM_PASSWORD, ANCHORAGE_DEVICE_LISTEN: `127.0.0.1:${devicePort}` },
    readyPath: '/tenant/currentTenant',
  });
  await platform.start();
  proxy = await Server.create({
    name: 'the proxy (B)',
    args: ['--upstream', upstream, '--upstream-ca', path.join(platform.dataDir, 'tls', 'ca.pem')],
    readyPath: '/anchorage/mode',
  });
  await proxy.start();
});

test.afterAll(async () => {
  await proxy?.dispose();
  await platform?.dispose();
});

/** The platform's trusted certificates, read from A directly. */
async function platformCertificates(): Promise<{ fingerprint: string; name: string; status: string }[]> {
  const res = await fetch(`${platform.baseURL}/tenant/tenants/t100/trusted-certificates?pageSize=2000`, { headers: auth });
  expect(res.status).toBe(200);
  return (await res.json()).certificates;
}

test("through a proxy the console manages the platform's certificates, says when it is down, and recovers", async ({ page }) => {
  test.setTimeout(90_000);
  const mode = await (await fetch(`${proxy.baseURL}/anchorage/mode`)).json();
  expect(mode).toEqual({ mode: 'proxy', upstream });

  const old = makeCertificate('E2E Proxy Old CA', { ca: true });
  const added = await fetch(`${platform.baseURL}/tenant/tenants/t100/trusted-certificates`, {
    method: 'POST',
    headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: old.name, certInPemFormat: old.pem, status: 'ENABLED', autoRegistrationEnabled: false }),
  });
  expect(added.status).toBe(201);

  // A's admin logs in through B.
  await page.goto(`${proxy.baseURL}/`);
  await logInAs(page, USER, PLATFORM_PASSWORD);
  const banner = page.getByRole('banner');
  await expect(banner).toContainText(`Proxy → ${upstream}`);
  await expect(banner).toContainText('t100');
  await expect(banner).toContainText('admin');
  await expect(row(page, old.name)).toBeVisible();
  // The platform manages users: no Users page in the navigation.
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' })).toHaveCount(0);

  // Add a CA, checked in the browser first.
  const ca = makeCertificate('E2E Proxy CA', { ca: true });
  await page.getByRole('button', { name: 'Add trusted certificate' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add trusted certificate' });
  await dialog.getByLabel('Certificate files').setInputFiles(ca.pemPath);
  await expect(dialog.locator('li[data-passed="true"]')).toHaveCount(6);
  await dialog.getByRole('button', { name: 'Add certificate' }).click();
  await expect(dialog).toBeHidden();
  await expect(row(page, ca.name)).toBeVisible();

  // Enable it, and delete the old one.
  const enabled = page.getByRole('switch', { name: `Enabled: ${ca.name}` });
  await expect(enabled).not.toBeChecked();
  const put = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(ca.fingerprint));
  await enabled.click();
  expect((await put).status()).toBe(200);
  await expect(enabled).toBeChecked();
  await page.getByRole('button', { name: `Delete ${old.name}` }).click();
  await page.getByRole('dialog', { name: 'Delete trusted certificate?' }).getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(row(page, old.name)).toHaveCount(0);

  // All of it is in A.
  const stored = await platformCertificates();
  expect(stored.find((c) => c.fingerprint === ca.fingerprint)).toMatchObject({ name: ca.name, status: 'ENABLED' });
  expect(stored.find((c) => c.fingerprint === old.fingerprint)).toBeUndefined();

  // The audit page shows what the platform recorded.
  await navigate(page, 'Audit');
  await page.getByLabel('Type', { exact: true }).selectOption('Tenant');
  await expect(page.locator('table.audit tbody tr').first()).toContainText('Trusted certificate deleted');

  // A goes down: B says so in words.
  await navigate(page, 'Trusted certificates');
  await expect(row(page, ca.name)).toBeVisible();
  await platform.stop();
  await page.getByRole('button', { name: 'Reload' }).click();
  const failure = page.getByRole('alert');
  await expect(failure).toContainText('The trusted certificates could not be loaded.');
  await expect(failure).toContainText(`The platform at ${upstream} cannot be reached`);

  // A reload cannot check the session either; the login page says why.
  await page.reload();
  await expect(page).toHaveURL(/\/login\?next=%2Ftrusted-certificates$/);
  await expect(page.getByRole('status').filter({ hasText: 'Your session could not be checked' })).toContainText(
    `The platform at ${upstream} cannot be reached`,
  );

  // A is back on the same ports: B works again, with the same session (no new login).
  await platform.start();
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Trusted certificates', level: 1 })).toBeVisible();
  await expect(row(page, ca.name)).toBeVisible();
  await expect(page.getByRole('switch', { name: `Enabled: ${ca.name}` })).toBeChecked();
  await expect(page.getByRole('alert')).toHaveCount(0);

  // Users belong to the platform.
  await page.goto(`${proxy.baseURL}/users`);
  await expect(page.getByText('Users are managed on the platform.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add user' })).toHaveCount(0);
});
