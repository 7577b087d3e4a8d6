/**
 * The Terraform module of the archive (deploy/terraform), parsed with
 * @cdktf/hcl2json (pinned; a Go HCL parser compiled to WebAssembly, so it runs
 * offline) and its security properties asserted: Object Lock on, retention
 * mode and days wired to variables, SSE-KMS with its own key and bucket key,
 * public access blocked, ownership enforced, the bucket policy's deny
 * statements with the break-glass exemption, and a collector role that can
 * never delete. `terraform fmt -check` and `terraform validate` run too when a
 * terraform binary (and, for validate, a provider mirror) is at hand.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT, removeTempDirs, tempDir } from './helpers.js';

const MODULE = join(ROOT, 'deploy/terraform');

type Block = Record<string, unknown>;
interface Statement {
  sid?: string;
  effect?: string;
  actions?: string[];
  resources?: string[] | string;
  not_resources?: string[] | string;
  principals?: { type: string; identifiers: string[] }[];
  condition?: { test: string; variable: string; values: string[] }[];
}

let tf: { resource: Record<string, Record<string, Block[]>>; data: Record<string, Record<string, Block[]>>; variable: Record<string, Block[]>; output: Record<string, Block[]>; terraform: Block[] };

async function parseFile(path: string): Promise<Record<string, unknown>> {
  return parse(path, readFileSync(path, 'utf8'));
}

/** Merges the top-level blocks of every .tf file of a directory, as Terraform does. */
async function parseModule(dir: string) {
  const merged: Record<string, unknown> = {};
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.tf'))) {
    for (const [kind, body] of Object.entries(await parseFile(join(dir, name)))) {
      if (kind === 'terraform') merged[kind] = [...((merged[kind] as Block[] | undefined) ?? []), ...(body as Block[])];
      else if (kind === 'resource' || kind === 'data') {
        const byType = (merged[kind] ??= {}) as Record<string, Record<string, unknown>>;
        for (const [type, named] of Object.entries(body as Record<string, Record<string, unknown>>)) byType[type] = { ...byType[type], ...named };
      } else merged[kind] = { ...(merged[kind] as Record<string, unknown> | undefined), ...(body as Record<string, unknown>) };
    }
  }
  return merged as unknown as typeof tf;
}

const one = (type: string, name: string, kind: 'resource' | 'data' = 'resource'): Block => {
  const blocks = tf[kind][type]?.[name];
  expect(blocks, `${kind} ${type}.${name}`).toBeDefined();
  return blocks![0]!;
};
const first = <T = Block>(value: unknown): T => (value as T[])[0]!;

/** The statements of a policy document, dynamic ones included. */
function statements(name: string): Statement[] {
  const doc = one('aws_iam_policy_document', name, 'data');
  const direct = (doc.statement as Statement[] | undefined) ?? [];
  const dynamic = ((doc.dynamic as { statement?: { content: Statement[] }[] } | undefined)?.statement ?? []).flatMap((d) => d.content);
  return [...direct, ...dynamic];
}

const bySid = (list: Statement[], sid: string): Statement => {
  const found = list.filter((s) => s.sid === sid);
  expect(found.map((s) => s.sid)).toEqual([sid]);
  return found[0]!;
};

const breakGlassExempt = (s: Statement) =>
  expect(s.condition).toContainEqual({ test: 'ArnNotEquals', variable: 'aws:PrincipalArn', values: ['${var.break_glass_role_arn}'] });
const everyone = (s: Statement) => expect(s.principals).toEqual([{ type: '*', identifiers: ['*'] }]);

beforeAll(async () => {
  tf = await parseModule(MODULE);
});
afterAll(removeTempDirs);

test('the module has the layout the Terraform ecosystem expects', () => {
  for (const file of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf', 'README.md']) expect(existsSync(join(MODULE, file)), file).toBe(true);
  expect(readdirSync(join(MODULE, 'examples')).length).toBeGreaterThanOrEqual(2);
  const provider = first<{ aws: Block }>(first<Block>(tf.terraform).required_providers).aws;
  expect(provider.source).toBe('hashicorp/aws');
  expect(first<Block>(tf.terraform).required_version).toMatch(/^>= 1\./);
});

test('the bucket has Object Lock and versioning, with the default retention wired to the variables', () => {
  const bucket = one('aws_s3_bucket', 'archive');
  expect(bucket.object_lock_enabled).toBe(true);
  expect(bucket.force_destroy).toBe(false);
  expect(first<Block>(one('aws_s3_bucket_versioning', 'archive').versioning_configuration).status).toBe('Enabled');
  const retention = first<Block>(first<Block>(one('aws_s3_bucket_object_lock_configuration', 'archive').rule).default_retention);
  expect(retention).toEqual({ mode: '${var.object_lock_mode}', days: '${var.retention_days}' });

  const mode = first<Block>(tf.variable.object_lock_mode);
  expect(mode.default).toBe('COMPLIANCE');
  expect(String(first<Block>(mode.validation).condition)).toContain('"GOVERNANCE"');
  const days = first<Block>(tf.variable.retention_days);
  expect(days.type).toBe('${number}');
  expect(String(first<Block>(days.validation).condition)).toContain('var.retention_days >= 1');
});

test('SSE-KMS with the module own rotated key and an S3 Bucket Key; public access blocked; ownership enforced', () => {
  const rule = first<Block>(one('aws_s3_bucket_server_side_encryption_configuration', 'archive').rule);
  expect(first<Block>(rule.apply_server_side_encryption_by_default)).toEqual({ sse_algorithm: 'aws:kms', kms_master_key_id: '${aws_kms_key.archive.arn}' });
  expect(rule.bucket_key_enabled).toBe(true);
  expect(one('aws_kms_key', 'archive').enable_key_rotation).toBe(true);

  const block = one('aws_s3_bucket_public_access_block', 'archive');
  for (const flag of ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets']) expect({ flag, on: block[flag] }).toEqual({ flag, on: true });
  expect(first<Block>(one('aws_s3_bucket_ownership_controls', 'archive').rule).object_ownership).toBe('BucketOwnerEnforced');
});

test('the bucket policy denies non-TLS access, unencrypted uploads, deleting versions and changing the lock, with break-glass exempt', () => {
  expect(one('aws_s3_bucket_policy', 'archive').policy).toBe('${data.aws_iam_policy_document.archive.json}');
  const policy = statements('archive');
  expect(policy.filter((s) => s.effect !== 'Deny')).toEqual([]); // the policy grants nothing
  for (const s of policy) everyone(s);

  const tls = bySid(policy, 'DenyInsecureTransport');
  expect(tls.actions).toEqual(['s3:*']);
  expect(tls.resources).toEqual(['${local.bucket_arn}', '${local.bucket_arn}/*']);
  expect(tls.condition).toEqual([{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }]);

  const unencrypted = bySid(policy, 'DenyUnencryptedUploads');
  expect(unencrypted.actions).toEqual(['s3:PutObject']);
  expect(unencrypted.condition).toEqual([{ test: 'StringNotEqualsIfExists', variable: 's3:x-amz-server-side-encryption', values: ['aws:kms'] }]);
  expect(bySid(policy, 'DenyOtherKmsKeys').condition).toEqual([{ test: 'StringNotEqualsIfExists', variable: 's3:x-amz-server-side-encryption-aws-kms-key-id', values: ['${aws_kms_key.archive.arn}'] }]);

  const deletes = bySid(policy, 'DenyDeletingObjectVersions');
  expect(deletes.actions).toEqual(expect.arrayContaining(['s3:DeleteObjectVersion', 's3:DeleteObject', 's3:BypassGovernanceRetention']));
  breakGlassExempt(deletes);

  const lock = bySid(policy, 'DenyChangingLockConfiguration');
  expect(lock.actions).toEqual(expect.arrayContaining(['s3:PutBucketObjectLockConfiguration', 's3:PutBucketVersioning', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy']));
  breakGlassExempt(lock);

  const conditional = bySid(policy, 'RequireConditionalWrites');
  expect(conditional.actions).toEqual(['s3:PutObject']);
  expect(conditional.condition).toEqual([{ test: 'Null', variable: 's3:if-none-match', values: ['true'] }]);
  expect(conditional.not_resources).toContain('local.latest_checkpoint'); // the well-known checkpoint only, and only when allowed
});

test('the collector role can put objects and set retention but never delete, bypass or reconfigure', () => {
  const policy = statements('collector');
  const allowed = policy.filter((s) => s.effect === 'Allow').flatMap((s) => s.actions ?? []);
  expect(allowed).toEqual(expect.arrayContaining(['s3:PutObject', 's3:PutObjectRetention', 's3:GetObject', 's3:ListBucket', 's3:GetBucketVersioning', 's3:GetBucketObjectLockConfiguration']));
  for (const action of allowed) expect(action).not.toMatch(/Delete|Bypass|LegalHold|PutBucket|PutLifecycle|PutEncryption|\*$|^\*/i);
  const never = bySid(policy, 'NeverDelete');
  expect(never.effect).toBe('Deny');
  expect(never.actions).toEqual(expect.arrayContaining(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention', 's3:PutBucketObjectLockConfiguration']));
  // Only this inline policy: no managed policy (AmazonS3FullAccess...) is attached anywhere in the module.
  expect(Object.keys(tf.resource).filter((type) => /policy_attachment/.test(type))).toEqual([]);
  expect(one('aws_iam_role_policy', 'collector').policy).toBe('${data.aws_iam_policy_document.collector.json}');
});

test('the KMS key cannot be disabled or scheduled for deletion but by break-glass', () => {
  const key = bySid(statements('key'), 'DenyKeyDestructionExceptBreakGlass');
  expect(key.effect).toBe('Deny');
  expect(key.actions).toEqual(expect.arrayContaining(['kms:ScheduleKeyDeletion', 'kms:DisableKey']));
  breakGlassExempt(key);
});

test('the optional CloudTrail trail validates its log files and the collector may read its bucket', () => {
  const trail = one('aws_cloudtrail', 'this');
  expect(trail.count).toBe('${var.enable_cloudtrail ? 1 : 0}');
  expect(trail.enable_log_file_validation).toBe(true);
  expect(trail.is_multi_region_trail).toBe(true);
  const read = bySid(statements('collector'), 'ReadCloudTrailLogs');
  expect(read.actions).toEqual(['s3:GetObject', 's3:ListBucket']);
  expect(first<Block>(one('aws_s3_bucket_versioning', 'trail').versioning_configuration).status).toBe('Enabled');
});

test('the outputs give what the collector needs', () => {
  for (const name of ['archive_url', 'bucket_name', 'bucket_arn', 'kms_key_arn', 'collector_role_arn', 'cloudtrail_bucket_name', 'stele_config']) {
    expect(tf.output[name], name).toBeDefined();
  }
});

test('the examples use the module with COMPLIANCE in production and GOVERNANCE in a test account', async () => {
  const modeOf = async (example: string) => {
    const parsed = (await parseFile(join(MODULE, 'examples', example, 'main.tf'))) as { module: Record<string, Block[]> };
    const module = parsed.module.stele_archive![0]!;
    expect(module.source).toBe('../..');
    return module.object_lock_mode;
  };
  expect(await modeOf('complete')).toBe('COMPLIANCE');
  expect(await modeOf('governance-test')).toBe('GOVERNANCE');
});

const terraform = (() => {
  try {
    execFileSync('terraform', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const pluginDir = process.env.STELE_TEST_TF_PLUGIN_DIR;
const noTerraform = 'skipped: no terraform binary on PATH';
const noMirror = 'skipped: set STELE_TEST_TF_PLUGIN_DIR to a provider mirror holding hashicorp/aws (terraform init -plugin-dir), so validate runs offline';
if (!terraform) console.warn(`test/archive-terraform.test.ts: terraform fmt and validate ${noTerraform}`);
else if (!pluginDir) console.warn(`test/archive-terraform.test.ts: terraform validate ${noMirror}`);

describe.skipIf(!terraform)(terraform ? 'terraform fmt' : `terraform fmt (${noTerraform})`, () => {
  test('the module and its examples are formatted', () => {
    execFileSync('terraform', ['fmt', '-check', '-recursive', MODULE], { stdio: 'pipe' });
  });
});

describe.skipIf(!terraform || !pluginDir)(terraform && pluginDir ? 'terraform validate' : `terraform validate (${terraform ? noMirror : noTerraform})`, () => {
  test('the module and its examples validate', () => {
    const copy = join(tempDir('terraform'), 'terraform');
    cpSync(MODULE, copy, { recursive: true });
    for (const dir of [copy, join(copy, 'examples/complete'), join(copy, 'examples/governance-test')]) {
      execFileSync('terraform', ['init', '-backend=false', '-input=false', `-plugin-dir=${pluginDir}`], { cwd: dir, stdio: 'pipe' });
      execFileSync('terraform', ['validate', '-no-color'], { cwd: dir, stdio: 'pipe' });
    }
  }, 120_000);
});
