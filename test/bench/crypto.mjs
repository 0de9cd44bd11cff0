// Field encryption: encrypt + decrypt of one field value (16 B, 64 B, 4 KB) through
// - raw node:crypto AES-256-GCM (random IV, a fixed AAD buffer, Buffers out: the floor);
// - phiguard's field cipher (context encoded as AAD, key commitment, text form, data-key cache);
// - the AWS Encryption SDK for JavaScript (@aws-crypto/client-node) with a raw AES keyring and
//   its caching materials manager, suite ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY
//   (committing, no signatures: its fastest committing suite).
// Also reports ciphertext overhead and how many keyring calls the whole run made.
//   node test/bench/crypto.mjs [--time 1000]
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import {
  AlgorithmSuiteIdentifier,
  CommitmentPolicy,
  NodeCachingMaterialsManager,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  buildClient,
  getLocalCryptographicMaterialsCache,
} from '@aws-crypto/client-node';
import { createFieldCipher } from '../../packages/core/dist/index.js';
import { encodeContext } from '../../packages/core/dist/crypto.js';
import { createLocalKeyring } from '../../packages/kms/dist/index.js';

const i = process.argv.indexOf('--time');
const time = i === -1 ? 1000 : Number(process.argv[i + 1]);
const master = createHash('sha256').update('phiguard benchmark master key').digest();
const context = { tenant: 'acme', resource: 'PatientResults', field: 'patient.ssn', record: 'lrv-7f3a9c' };

// phiguard, with a keyring that counts its calls.
const local = createLocalKeyring({ key: master });
const calls = { generate: 0, decrypt: 0 };
const keyring = {
  generateDataKey: (c) => (calls.generate++, local.generateDataKey(c)),
  encryptDataKey: (p, c) => local.encryptDataKey(p, c),
  decryptDataKey: (w, c) => (calls.decrypt++, local.decryptDataKey(w, c)),
};
const cipher = createFieldCipher({ keyring });

// Raw AES-256-GCM: one key, a precomputed AAD, no encoding.
const rawKey = randomBytes(32);
const rawAad = encodeContext(context);
function rawRoundTrip(value) {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', rawKey, iv);
  c.setAAD(rawAad);
  const body = Buffer.concat([c.update(value, 'utf8'), c.final()]);
  const tag = c.getAuthTag();
  const d = createDecipheriv('aes-256-gcm', rawKey, iv);
  d.setAAD(rawAad);
  d.setAuthTag(tag);
  return d.update(body, undefined, 'utf8') + d.final('utf8');
}

// AWS Encryption SDK with caching.
const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const awsKeyring = new RawAesKeyringNode({
  keyName: 'bench',
  keyNamespace: 'phiguard-bench',
  unencryptedMasterKey: new Uint8Array(master),
  wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
});
const cmm = new NodeCachingMaterialsManager({
  backingMaterials: awsKeyring,
  cache: getLocalCryptographicMaterialsCache(100),
  maxAge: 5 * 60_000,
  maxMessagesEncrypted: 1_000_000,
});
const suiteId = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;
async function awsRoundTrip(value) {
  const { result } = await encrypt(cmm, value, { encryptionContext: context, suiteId });
  const { plaintext } = await decrypt(cmm, result);
  return { bytes: result.length, plaintext: plaintext.toString('utf8') };
}

const sizes = [16, 64, 4096];
const rows = [];
for (const size of sizes) {
  const value = 'x'.repeat(size);
  // Correctness and overhead first.
  const sealed = await cipher.encrypt(value, context);
  if ((await cipher.decrypt(sealed, context)) !== value) throw new Error('phiguard round trip failed');
  const aws = await awsRoundTrip(value);
  if (aws.plaintext !== value || rawRoundTrip(value) !== value) throw new Error('peer round trip failed');
  const binary = Buffer.from(sealed.slice(4), 'base64url').length;

  const bench = new Bench({ time, warmupTime: 300 });
  bench
    .add(`raw AES-256-GCM ${size} B`, () => rawRoundTrip(value))
    .add(`phiguard field cipher ${size} B`, async () => {
      await cipher.decrypt(await cipher.encrypt(value, context), context);
    })
    .add(`AWS Encryption SDK (caching CMM) ${size} B`, async () => {
      await awsRoundTrip(value);
    });
  await bench.run();
  const median = (name) => bench.tasks.find((t) => t.name === name).result.latency.p50 * 1000;
  const raw = median(`raw AES-256-GCM ${size} B`);
  const ours = median(`phiguard field cipher ${size} B`);
  const sdk = median(`AWS Encryption SDK (caching CMM) ${size} B`);
  rows.push({
    size,
    rawUs: raw,
    phiguardUs: ours,
    awsSdkUs: sdk,
    vsRaw: ours / raw,
    awsSdkVsPhiguard: sdk / ours,
    overheadBinary: binary - size,
    overheadText: sealed.length - size,
    awsSdkOverhead: aws.bytes - size,
  });
}

console.log('| value | raw AES-GCM µs | phiguard µs | AWS Encryption SDK µs | phiguard / raw | SDK / phiguard | overhead: binary B | text chars | SDK message B |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.size} B | ${r.rawUs.toFixed(2)} | ${r.phiguardUs.toFixed(2)} | ${r.awsSdkUs.toFixed(1)} | ${r.vsRaw.toFixed(2)}× | ${r.awsSdkVsPhiguard.toFixed(0)}× | ${r.overheadBinary} | ${r.overheadText} | ${r.awsSdkOverhead} |`,
  );
}
console.log(`\nkeyring calls during the whole run: generate ${calls.generate}, decrypt ${calls.decrypt}`);
mkdirSync('test/bench/results', { recursive: true });
writeFileSync(join('test/bench/results', 'crypto.json'), JSON.stringify({ node: process.version, date: new Date().toISOString(), rows, calls }, null, 2));
