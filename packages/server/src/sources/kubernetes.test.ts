/** The Kubernetes source's refusals name the field, and nothing before the message when the body as a whole is wrong. */
import { expect, test } from 'vitest';
import { kubernetesEvents, type KubernetesOptions } from './kubernetes.js';
import { PayloadError } from './normalize.js';

const options: KubernetesOptions = { maxObjectBytes: 8192, tickets: [] };

test('a body that is not an EventList: the message is the problem alone, not ": ..."', () => {
  for (const body of [null, [], { kind: 'Event', apiVersion: 'audit.k8s.io/v1' }]) {
    let err: unknown;
    try {
      kubernetesEvents(body, options);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PayloadError);
    expect((err as PayloadError).message).toBe('expected an audit.k8s.io/v1 EventList with items');
  }
});

test('an item that is not an object: its problem alone; among several, the first with its field', () => {
  const list = (items: unknown[]) => ({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items });
  expect(() => kubernetesEvents(list([1]), options)).toThrow(/^an audit event must be an object$/);
  expect(() => kubernetesEvents(list([1, 2]), options)).toThrow(/^2 problems, the first: an audit event must be an object$/);
});
