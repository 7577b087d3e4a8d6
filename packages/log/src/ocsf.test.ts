/**
 * OCSF classification of Stele records: which class and activity each kind
 * of event becomes, and the attributes every OCSF event must have.
 */
import { describe, expect, test } from 'vitest';
import type { EventRecord } from './event.js';
import { crudActivity, ocsfClass, toOcsf } from './ocsf.js';

const record = (fields: Partial<EventRecord> & Pick<EventRecord, 'source' | 'action'>): EventRecord => ({
  v: 1,
  id: 'e-1',
  index: 7,
  time: '2025-06-02T12:00:00.000Z',
  received: '2025-06-02T12:00:01.000Z',
  actor: { id: 'alice', email: 'alice@example.com', verified: true, idp: 'https://idp.example.com' },
  outcome: 'success',
  ...fields,
});
const iam = (eventName: string) => record({ source: 'cloudtrail', action: 'aws.iam.x', details: { operation: eventName, aws: { eventSource: 'iam.amazonaws.com', requestParameters: { userName: 'bob', policyArn: 'arn:p' } } } });

describe('ocsfClass', () => {
  test.each([
    [record({ source: 'emacs', action: 'file.save' }), 1001, 3],
    [record({ source: 'emacs', action: 'file.delete' }), 1001, 4],
    [record({ source: 'emacs', action: 'package.install' }), 6002, 1],
    [record({ source: 'emacs', action: 'package.remove' }), 6002, 2],
    [record({ source: 'emacs', action: 'package.upgrade' }), 6002, 8],
    [iam('CreateUser'), 3001, 1],
    [iam('CreateAccessKey'), 3001, 1],
    [iam('DeleteLoginProfile'), 3001, 5],
    [iam('UpdateLoginProfile'), 3001, 3],
    [iam('AttachRolePolicy'), 3001, 7],
    [iam('DetachUserPolicy'), 3001, 8],
    [iam('EnableMFADevice'), 3001, 10],
    [iam('CreatePolicy'), 3004, 1],
    [iam('DeleteGroup'), 3004, 4],
    [iam('ListUsers'), 6003, 2],
    [record({ source: 'kubernetes', action: 'k8s.exec', details: { operation: 'create' } }), 6003, 1],
    [record({ source: 'kubernetes', action: 'k8s.patch', details: { operation: 'patch' } }), 6003, 3],
    [record({ source: 'git', action: 'vc.commit' }), 6003, 1],
    [record({ source: 'git', action: 'vc.push.force' }), 6003, 3],
    [record({ source: 'git', action: 'vc.ref.delete' }), 6003, 4],
    [record({ source: 'slack', action: 'change.approve', details: { operation: 'approve' } }), 0, 99],
    [record({ source: 'stele', action: 'collector.start' }), 0, 99],
  ])('%#: %s', (r, classUid, activity) => {
    const c = ocsfClass(r);
    expect([c.class_uid, c.activity_id]).toEqual([classUid, activity]);
    expect(c.category_uid).toBe(Math.floor(classUid / 1000));
  });

  test('crudActivity reads verbs and API names', () => {
    expect(['create', 'get', 'update', 'delete', 'impersonate'].map(crudActivity)).toEqual([1, 2, 3, 4, 99]);
    expect(['RunInstances', 'DescribeInstances', 'PutBucketPolicy', 'TerminateInstances'].map(crudActivity)).toEqual([1, 2, 3, 4]);
  });
});

describe('toOcsf', () => {
  test('the base attributes, the actor, status, privilege and everything else kept in unmapped', () => {
    const e = toOcsf(record({ source: 'kubernetes', action: 'k8s.exec', outcome: 'failure', host: 'prod', reason: 'INC-42', details: { operation: 'create', privileged: true, privilege: 'exec', sourceIPs: ['10.0.0.1'], status: { code: 403, message: 'no' } } }));
    expect(e).toMatchObject({
      class_uid: 6003,
      type_uid: 600301,
      severity_id: 3,
      time: Date.UTC(2025, 5, 2, 12),
      status_id: 2,
      status_code: '403',
      message: 'INC-42',
      metadata: { version: '1.3.0', uid: 'e-1', sequence: 7, logged_time: Date.UTC(2025, 5, 2, 12, 0, 1), labels: ['privileged', 'exec'] },
      actor: { user: { uid: 'alice', email_addr: 'alice@example.com' }, idp: { name: 'https://idp.example.com' } },
      src_endpoint: { ip: '10.0.0.1', hostname: 'prod' },
      api: { operation: 'create', response: { code: 403, message: 'no' } },
      unmapped: { reason: 'INC-42', actor_verified: true, details: { privilege: 'exec' } },
    });
  });

  test('a file save carries the file and the device', () => {
    const e = toOcsf(record({ source: 'emacs', action: 'file.save', host: 'laptop', target: { type: 'file', id: '/etc/hosts' } }));
    expect(e).toMatchObject({ file: { path: '/etc/hosts', name: 'hosts' }, device: { hostname: 'laptop' }, severity_id: 1 });
  });
});
