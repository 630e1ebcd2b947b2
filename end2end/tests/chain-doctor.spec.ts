// The chain doctor against the real server: chains made with the openssl CLI at test time (root
// CA → intermediate → device), given in the wrong order, as PEM and DER files or pasted; the page
// orders them, says which certificate expired, which issuer is missing or that the anchoring CA
// is disabled, and shows the server's verdict (verify-cert-chain).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Page, expect, test } from '@playwright/test';
import { TestCertificate, navigate, openConsole, unique, uploadViaApi } from './support';

/** A certificate of a chain, with its key (kept in the chain's temporary directory). */
interface Made extends TestCertificate {
  keyPath: string;
  /** The serial as `openssl x509 -serial` prints it (upper-case hex). */
  serial: string;
}

/** Root CA → intermediate → device, made in one temporary directory. */
interface Chain {
  root: Made;
  intermediate: Made;
  device: Made;
}

const EXTENSIONS = `
[ ca ]
default_ca = doctor
[ doctor ]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
[ intermediate ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ device ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function openssl(dir: string, args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Reads back what the tests need of a certificate the chain's directory holds as `<file>.pem`. */
function made(dir: string, file: string, name: string): Made {
  const pemPath = path.join(dir, `${file}.pem`);
  const derPath = path.join(dir, `${file}.der`);
  openssl(dir, ['x509', '-in', pemPath, '-outform', 'DER', '-out', derPath]);
  const fingerprint = openssl(dir, ['x509', '-in', pemPath, '-noout', '-fingerprint', '-sha1'])
    .trim()
    .split('=')[1]
    .replace(/:/g, '')
    .toLowerCase();
  const serial = openssl(dir, ['x509', '-in', pemPath, '-noout', '-serial']).trim().split('=')[1];
  return { name, pemPath, derPath, pem: fs.readFileSync(pemPath, 'utf8'), fingerprint, keyPath: path.join(dir, `${file}.key`), serial };
}

/** Signs `<file>.csr` with `issuer` (`openssl ca`, which takes explicit dates): valid for 30
 * days from now, or over `dates` (`YYYYMMDDHHMMSSZ`). */
function sign(dir: string, file: string, issuer: Made, section: string, dates?: { start: string; end: string }) {
  const validity = dates ? ['-startdate', dates.start, '-enddate', dates.end] : ['-days', '30'];
  openssl(dir, [
    'ca', '-batch', '-notext', '-config', 'doctor.cnf', '-extensions', section,
    '-cert', issuer.pemPath, '-keyfile', issuer.keyPath, '-in', `${file}.csr`, '-out', `${file}.pem`, ...validity,
  ]);
}

function request(dir: string, file: string, subject: string) {
  openssl(dir, [
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${file}.key`, '-out', `${file}.csr`, '-subj', `/CN=${subject}`,
  ]);
}

/** A fresh chain; the intermediate is valid for 30 days unless `intermediateDates` says otherwise. */
function makeChain(label: string, intermediateDates?: { start: string; end: string }): Chain {
  const id = unique();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anchorage-e2e-chain-'));
  fs.writeFileSync(path.join(dir, 'doctor.cnf'), EXTENSIONS);
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), `${Date.now().toString(16).padStart(16, '0')}\n`);

  const rootName = `E2E Doctor Root ${label} ${id}`;
  openssl(dir, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'root.key', '-out', 'root.pem', '-days', '30', '-subj', `/CN=${rootName}`,
    '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const root = made(dir, 'root', rootName);

  const intermediateName = `E2E Doctor Intermediate ${label} ${id}`;
  request(dir, 'intermediate', intermediateName);
  sign(dir, 'intermediate', root, 'intermediate', intermediateDates);
  const intermediate = made(dir, 'intermediate', intermediateName);

  const deviceName = `e2e-doctor-${label.toLowerCase()}-${id}`;
  request(dir, 'device', deviceName);
  sign(dir, 'device', intermediate, 'device');
  const device = made(dir, 'device', deviceName);
  return { root, intermediate, device };
}

async function openDoctor(page: Page): Promise<void> {
  await openConsole(page);
  await navigate(page, 'Chain doctor');
}

/** The card of the certificate at `position` (1 = the device) of the path. */
function card(page: Page, position: number, role: string) {
  return page.getByRole('article', { name: new RegExp(`^${position}\\. ${role}: `) });
}

test('an expired intermediate is named, with its date, against the server clock', async ({ page, request }) => {
  const chain = makeChain('Expired', { start: '20200101000000Z', end: '20210101000000Z' });
  await uploadViaApi(request, chain.root, 'ENABLED');
  await openDoctor(page);
  await expect(page.getByTestId('server-clock')).toContainText("Validity is checked at the server's time");

  // Intermediate first, device second: the page puts the device first.
  await page.getByLabel('Paste PEM').fill(chain.intermediate.pem + chain.device.pem);
  const device = card(page, 1, 'Device certificate');
  const intermediate = card(page, 2, 'Intermediate CA');
  await expect(device).toContainText(`CN=${chain.device.name}`);
  await expect(device).toContainText(chain.device.fingerprint);
  await expect(device.locator('li[data-verdict="fail"]')).toHaveCount(0);
  await expect(intermediate).toContainText(`CN=${chain.intermediate.name}`);
  const failed = intermediate.locator('li[data-verdict="fail"]');
  await expect(failed).toHaveCount(1);
  await expect(failed).toContainText('Validity');
  await expect(failed).toContainText('expired on 2021-01-01T00:00:00.000Z');
  await expect(intermediate.locator('li[data-verdict="server"]')).toContainText('Signature');
  await expect(page.getByText('What refuses this chain:')).toBeVisible();
  await expect(page.locator('ul.problems')).toContainText(
    `Intermediate CA (CN=${chain.intermediate.name}): Validity: expired on 2021-01-01T00:00:00.000Z.`,
  );
  // The anchor itself is fine.
  await expect(page.getByTestId('anchor')).toContainText(`Anchored by the trusted certificate '${chain.root.name}'`);

  const verdict = page.getByTestId('server-verdict');
  await expect(verdict).toContainText('The server refuses the chain');
  await expect(verdict.getByTestId('reason-code')).toHaveText('EXPIRED');
});

test('a device certificate alone: the missing intermediate is named, and a link asks for that device', async ({ page, request }) => {
  const chain = makeChain('Missing');
  await uploadViaApi(request, chain.root, 'ENABLED');
  await openConsole(page);
  const serial = chain.device.serial.toLowerCase();
  await page.goto(`/chain-doctor?fingerprint=${chain.device.fingerprint}&serial=${serial}`);
  await expect(page.getByRole('heading', { name: 'Chain doctor', level: 1 })).toBeVisible();
  await expect(page.getByTestId('linked-device')).toContainText(
    `Paste the chain of the device with certificate ${chain.device.fingerprint} (serial ${serial})`,
  );

  await page.getByLabel('Certificate files').setInputFiles(chain.device.pemPath);
  await expect(card(page, 1, 'Device certificate')).toContainText(`CN=${chain.device.name}`);
  await expect(page.getByRole('article', { name: /^2\. / })).toHaveCount(0);
  await expect(page.getByText('This is the device certificate the link is about.')).toBeVisible();
  const anchor = page.getByTestId('anchor');
  await expect(anchor).toContainText(`The issuer of CN=${chain.device.name} is missing`);
  await expect(anchor).toContainText(`CN=${chain.intermediate.name}`);
  await expect(page.getByTestId('server-verdict').getByTestId('reason-code')).toHaveText('UNKNOWN_ISSUER');

  // Adding the intermediate (as DER) completes the path.
  await page.getByLabel('Certificate files').setInputFiles(chain.intermediate.derPath);
  await expect(card(page, 2, 'Intermediate CA')).toContainText(`CN=${chain.intermediate.name}`);
  await expect(anchor).toContainText(`Anchored by the trusted certificate '${chain.root.name}'`);
});

test('a disabled root: the anchor is explained and the server says CA_DISABLED', async ({ page, request }) => {
  const chain = makeChain('Disabled');
  await uploadViaApi(request, chain.root, 'DISABLED');
  await openDoctor(page);

  // Several files at once, PEM and DER, the root among them.
  await page.getByLabel('Certificate files').setInputFiles([chain.root.pemPath, chain.device.derPath, chain.intermediate.pemPath]);
  await expect(card(page, 1, 'Device certificate')).toContainText(`CN=${chain.device.name}`);
  await expect(card(page, 2, 'Intermediate CA')).toContainText(`CN=${chain.intermediate.name}`);
  await expect(page.getByRole('article', { name: /^3\. / })).toHaveCount(0);
  await expect(page.getByRole('article', { name: `Not on the path: CN=${chain.root.name}` })).toContainText('anchors the path itself');
  const anchor = page.getByTestId('anchor');
  await expect(anchor).toContainText(`Anchored by the trusted certificate '${chain.root.name}'`);
  await expect(anchor).toContainText('It is DISABLED');
  await expect(page.locator('li[data-verdict="fail"]')).toHaveCount(0);

  const verdict = page.getByTestId('server-verdict');
  await expect(verdict).toContainText('The server refuses the chain');
  await expect(verdict.getByTestId('reason-code')).toHaveText('CA_DISABLED');
  await expect(verdict).toContainText('CA disabled');
  await expect(verdict).toContainText('Enable the trusted certificate');
});
