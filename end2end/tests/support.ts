// Shared helpers of the browser tests: certificates made with the openssl CLI at test time (in
// a temporary directory, never committed), logging in, and set-up through the REST API.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { APIRequestContext, Locator, Page, expect } from '@playwright/test';

export const USER = 'admin';

export function password(): string {
  const p = process.env.E2E_ADMIN_PASSWORD;
  if (!p) throw new Error('E2E_ADMIN_PASSWORD is not set: run the tests through playwright.config.ts');
  return p;
}

/** A certificate made for one test. */
export interface TestCertificate {
  /** Its common name, unique per call. */
  name: string;
  /** Path of the PEM file. */
  pemPath: string;
  /** Path of the same certificate in DER. */
  derPath: string;
  /** The PEM text. */
  pem: string;
  /** Lowercase hex SHA-1 of the DER, as `openssl x509 -fingerprint -sha1` computes it. */
  fingerprint: string;
}

let counter = 0;

/** A fresh self-signed EC P-256 certificate, valid for `days`, CA or not. */
export function makeCertificate(label: string, options: { ca: boolean; days?: number }): TestCertificate {
  counter += 1;
  const name = `${label} ${process.pid}-${Date.now()}-${counter}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anchorage-e2e-cert-'));
  const pemPath = path.join(dir, 'cert.pem');
  const derPath = path.join(dir, 'cert.der');
  const keyPath = path.join(dir, 'key.pem');
  const constraints = options.ca ? 'basicConstraints=critical,CA:true' : 'basicConstraints=critical,CA:false';
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyPath, '-out', pemPath, '-days', String(options.days ?? 30),
    '-subj', `/CN=${name}`, '-addext', constraints,
  ], { stdio: 'pipe' });
  execFileSync('openssl', ['x509', '-in', pemPath, '-outform', 'DER', '-out', derPath], { stdio: 'pipe' });
  const out = execFileSync('openssl', ['x509', '-in', pemPath, '-noout', '-fingerprint', '-sha1'], { encoding: 'utf8' });
  const fingerprint = out.trim().split('=')[1].replace(/:/g, '').toLowerCase();
  // The key is not needed by any test; do not leave it around.
  fs.rmSync(keyPath);
  return { name, pemPath, derPath, pem: fs.readFileSync(pemPath, 'utf8'), fingerprint };
}

function basicAuth(): string {
  return basic(USER, password());
}

/** The tenant id, as the server reports it. */
export async function tenantId(request: APIRequestContext): Promise<string> {
  const res = await request.get('/tenant/currentTenant', { headers: { Authorization: basicAuth() } });
  expect(res.status()).toBe(200);
  return (await res.json()).name;
}

/** Uploads `cert` through the REST API (set-up for tests about other features). */
export async function uploadViaApi(request: APIRequestContext, cert: TestCertificate, status = 'DISABLED'): Promise<void> {
  const tenant = await tenantId(request);
  const res = await request.post(`/tenant/tenants/${tenant}/trusted-certificates`, {
    headers: { Authorization: basicAuth(), Accept: 'application/json' },
    data: { name: cert.name, certInPemFormat: cert.pem, status, autoRegistrationEnabled: false },
  });
  expect(res.status(), await res.text()).toBe(201);
}

/** Logs in on the login page the browser is on (or is sent to) and waits for the page it
 * leads to (the trusted certificates unless the login was asked for another page). */
export async function logIn(page: Page, heading = 'Trusted certificates'): Promise<void> {
  await logInAs(page, USER, password(), heading);
}

/** Logs in as `user` on the login page the browser is on, and waits for the page it leads to. */
export async function logInAs(page: Page, user: string, secret: string, heading = 'Trusted certificates'): Promise<void> {
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(secret);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: heading, level: 1 })).toBeVisible();
}

/** A Basic `Authorization` header value. */
export function basic(user: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${user}:${secret}`).toString('base64');
}

/** Opens the console and logs in. */
export async function openConsole(page: Page): Promise<void> {
  await page.goto('/');
  await logIn(page);
}

/** Reloads the page; the session cookie keeps the login, so the page (whose heading is
 * `heading`) comes back without logging in again. */
export async function reloadPage(page: Page, heading = 'Trusted certificates'): Promise<void> {
  await page.reload();
  await expect(page.getByRole('heading', { name: heading, level: 1 })).toBeVisible();
  await expect(page).not.toHaveURL(/\/login/);
}

/** The table row of the certificate named `name`. */
export function row(page: Page, name: string) {
  return page.getByRole('row').filter({ has: page.getByRole('rowheader', { name, exact: true }) });
}

/** The `Authorization` header of the test admin, for set-up through the REST API. */
export function adminAuth(): string {
  return basicAuth();
}

/** Writes `text` to a fresh temporary file named `name` and returns its path. */
export function tempFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anchorage-e2e-file-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** A suffix that makes ids unique per test run and retry. */
export function unique(): string {
  counter += 1;
  return `${process.pid}-${Date.now()}-${counter}`;
}

/** Goes to a page through the navigation bar and waits for its heading. */
export async function navigate(page: Page, link: string, heading = link): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link, exact: true }).click();
  await expect(page.getByRole('heading', { name: heading, level: 1 })).toBeVisible();
}

/**
 * Runs axe-core on the page as it is now and fails on any violation, naming each rule, its
 * impact and the elements it found. `state` says which page state this is (in the message).
 * Every page state a test reaches should be checked: issue 16 asks for 0 violations.
 */
export async function expectAccessible(page: Page, state: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const found = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).join('\n    ')}`,
  );
  expect(found, `axe-core violations on ${state}`).toEqual([]);
}

/** A CA and a device certificate it signed (EC P-256, 30 days), made with the openssl CLI in a
 * temporary directory; the CA's key is removed once the device certificate is signed. */
export interface DevicePki {
  dir: string;
  caName: string;
  caPem: string;
  /** Lowercase hex SHA-1 of the CA certificate. */
  caFingerprint: string;
  deviceId: string;
  certPath: string;
  keyPath: string;
  /** The device certificate's serial as `openssl x509 -serial` prints it (uppercase hex). */
  opensslSerial: string;
  /** The same serial in lowercase hex without leading zeros. */
  serialHex: string;
  /** Lowercase hex SHA-1 of the device certificate. */
  fingerprint: string;
}

/** Makes a [`DevicePki`]: the CA is named `<caLabel> <unique>`, the device `<deviceLabel>-<unique>`.
 * `serialFirstByte` sets the serial's first octet (default: one with no leading zero nibble,
 * so that the trimmed lowercase hex is what OpenSSL prints, lowercased). */
export function makeDevicePki(caLabel: string, deviceLabel: string, serialFirstByte?: number): DevicePki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anchorage-e2e-pki-'));
  const id = unique();
  const caName = `${caLabel} ${id}`;
  const deviceId = `${deviceLabel}-${id}`;
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '30', '-subj', `/CN=${caName}`,
    '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(['req', '-new', ...ec, '-keyout', 'device-key.pem', '-out', 'device.csr', '-subj', `/CN=${deviceId}`]);
  fs.writeFileSync(path.join(dir, 'device.ext'),
    'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  const serial = randomBytes(12);
  serial[0] = serialFirstByte ?? ((serial[0] & 0x7f) | 0x10);
  run(['x509', '-req', '-in', 'device.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-set_serial',
    `0x${serial.toString('hex')}`, '-days', '30', '-out', 'device.pem', '-extfile', 'device.ext']);
  fs.rmSync(path.join(dir, 'ca-key.pem'));
  const opensslSerial = run(['x509', '-in', 'device.pem', '-noout', '-serial']).trim().split('=')[1];
  const sha1 = (file: string) =>
    run(['x509', '-in', file, '-noout', '-fingerprint', '-sha1']).trim().split('=')[1].replace(/:/g, '').toLowerCase();
  return {
    dir, caName, caPem: fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8'), caFingerprint: sha1('ca.pem'), deviceId,
    certPath: path.join(dir, 'device.pem'), keyPath: path.join(dir, 'device-key.pem'), opensslSerial,
    serialHex: opensslSerial.toLowerCase().replace(/^0+/, ''), fingerprint: sha1('device.pem'),
  };
}

/** `POST /devicecontrol/deviceAccessToken` over mutual TLS with the device's certificate. */
export function deviceToken(pki: DevicePki): Promise<{ status: number; body: Record<string, unknown> }> {
  const base = process.env.E2E_DEVICE_URL;
  const caPath = process.env.E2E_DEVICE_TLS_CA;
  if (!base || !caPath) throw new Error('E2E_DEVICE_URL / E2E_DEVICE_TLS_CA are not set: run through playwright.config.ts');
  const url = new URL('/devicecontrol/deviceAccessToken', base);
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: 'POST',
      key: fs.readFileSync(pki.keyPath),
      cert: fs.readFileSync(pki.certPath),
      ca: fs.readFileSync(caPath),
      headers: { Accept: 'application/json' },
      agent: false,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          reject(new Error(`not JSON (${res.statusCode}): ${text}`));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Closes the add dialog, then proves nothing was posted: a list request made after every
 * attempt comes back, and no POST (collected in `posts`) went before it. */
export async function expectNothingSent(page: Page, dialog: Locator, posts: string[]): Promise<void> {
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  const listed = page.waitForResponse((r) => r.request().method() === 'GET' && r.url().includes('trusted-certificates'));
  await page.getByRole('button', { name: 'Reload' }).click();
  await listed;
  expect(posts).toEqual([]);
}
