/**
 * A realistic incident for `stele demo`: one night of INC-42, told by every
 * source. The Kubernetes, CloudTrail, GitHub and Slack parts are those
 * sources' own payloads run through the collector's mappers, so the console
 * shows what a real collector would have recorded.
 */
import { cloudtrailEvents, DEFAULT_TICKET_PATTERNS, githubPushEvent, kubernetesEvents, slackCommand, ticketMatchers } from '@stele/server';

const tickets = ticketMatchers(DEFAULT_TICKET_PATTERNS);
const alice = { id: 'alice', email: 'alice@example.com', name: 'Alice Example', verified: false };
const bob = { id: 'bob', email: 'bob@example.com', name: 'Bob Builder', verified: false };

/** The incident's events, oldest first, over the night before `now`. */
export function incidentEvents(now: number): Record<string, unknown>[] {
  const start = now - 8 * 3600_000;
  const at = (minutes: number) => new Date(start + minutes * 60_000).toISOString();
  const events: Record<string, unknown>[] = [];
  // Emacs saves through the evening, one device chain per laptop.
  const files = ['src/cache.ts', 'src/checkout.ts', 'src/cache.ts', '~/.emacs.d/init.el', 'src/cache.test.ts'];
  files.forEach((file, i) => {
    events.push({
      id: `demo-emacs-${i}`, time: at(5 + i * 12), source: 'emacs', action: 'file.save', actor: alice, host: 'alice-laptop', outcome: 'success',
      target: { type: 'file', id: file.startsWith('~') ? file : `/home/alice/platform/${file}`, name: file.split('/').pop()! },
      details: { mode: file.endsWith('.el') ? 'emacs-lisp-mode' : 'typescript-ts-mode', bytes: 1200 + i * 97 },
    });
  });
  events.push({
    id: 'demo-sudo-1', time: at(70), source: 'emacs', action: 'file.save', actor: bob, host: 'web-1', outcome: 'success', reason: 'INC-42: raise the cache timeout while checkout is failing',
    target: { type: 'file', id: '/etc/platform/cache.conf', name: 'cache.conf' }, details: { tramp: '/sudo:root@web-1:', privileged: true, privilege: 'sudo' },
  });
  events.push({
    id: 'demo-package-1', time: at(75), source: 'emacs', action: 'package.install', actor: bob, host: 'bob-laptop', outcome: 'success',
    target: { type: 'package', id: 'melpa/kubel', name: 'kubel' }, details: { archive: 'melpa', version: '3.0.1' },
  });

  // Kubernetes: an exec into a production pod and a secret read.
  const k8s = (auditID: string, minutes: number, verb: string, uri: string, objectRef: Record<string, string>, code: number) => ({
    level: 'Metadata', auditID, stage: 'ResponseComplete', requestURI: uri, verb,
    user: { username: 'bob@example.com', uid: '00u2bob', groups: ['sre', 'system:authenticated'] }, sourceIPs: ['10.0.4.21'], userAgent: 'kubectl/v1.30.2',
    objectRef: { apiVersion: 'v1', ...objectRef }, responseStatus: { metadata: {}, code },
    requestReceivedTimestamp: at(minutes), stageTimestamp: at(minutes),
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "sre-exec"' },
  });
  events.push(...kubernetesEvents({
    kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [
      k8s('1b6f4d0e-0000-4000-8000-000000000001', 90, 'create', '/api/v1/namespaces/prod/pods/checkout-7f9c/exec?command=sh&container=app&stdin=true&tty=true', { resource: 'pods', namespace: 'prod', name: 'checkout-7f9c', subresource: 'exec' }, 101),
      k8s('1b6f4d0e-0000-4000-8000-000000000002', 96, 'get', '/api/v1/namespaces/prod/secrets/cache-credentials', { resource: 'secrets', namespace: 'prod', name: 'cache-credentials' }, 200),
    ],
  }, { maxObjectBytes: 4096, cluster: 'prod-eu', tickets }));

  // CloudTrail: a new IAM access key for the deploy bot.
  events.push(...cloudtrailEvents({
    Records: [{
      eventVersion: '1.09', userIdentity: { type: 'IAMUser', principalId: 'AIDADEMOALICE', arn: 'arn:aws:iam::123456789012:user/alice', accountId: '123456789012', userName: 'alice' },
      eventTime: at(110).replace(/\.\d+Z$/, 'Z'), eventSource: 'iam.amazonaws.com', eventName: 'CreateAccessKey', awsRegion: 'us-east-1', sourceIPAddress: '198.51.100.7',
      userAgent: 'aws-cli/2.15.0', requestParameters: { userName: 'deploy-bot' }, responseElements: { accessKey: { accessKeyId: 'AKIADEMODEPLOYBOT', status: 'Active', userName: 'deploy-bot' } },
      requestID: 'demo-request-1', eventID: 'demo-cloudtrail-1', readOnly: false, eventType: 'AwsApiCall', managementEvent: true, recipientAccountId: '123456789012', eventCategory: 'Management',
    }],
  }, { maxObjectBytes: 4096, tickets }));

  // Slack: the incident commander approves the rollback.
  const approval = slackCommand(new URLSearchParams({
    team_id: 'T0DEMO', team_domain: 'acme', channel_id: 'C0INC', channel_name: 'inc-42', user_id: 'U0CAROL', user_name: 'carol', command: '/stele', text: 'approve INC-42 roll back the cache change by force', trigger_id: 'demo.approval.1',
  }), String(Math.floor((start + 120 * 60_000) / 1000)), tickets);
  if (approval.kind === 'approve') events.push(approval.event);

  // GitHub: the rollback, force-pushed to main.
  const sha = '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c';
  const commit = {
    id: sha, tree_id: 'f9d2a07e9488b91af2641b26b9407fe22a451433', distinct: true, message: 'Revert the cache change\n\nINC-42: the cache broke checkout; rolling back by force.',
    timestamp: at(130), url: `https://github.example/acme/platform/commit/${sha}`,
    author: { name: 'Alice Example', email: 'alice@example.com', username: 'alice-gh' }, committer: { name: 'Alice Example', email: 'alice@example.com', username: 'alice-gh' },
    added: [], removed: [], modified: ['src/cache.ts'],
  };
  events.push(githubPushEvent({
    ref: 'refs/heads/main', before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246', after: sha,
    repository: { id: 186853002, name: 'platform', full_name: 'acme/platform', private: true, html_url: 'https://github.example/acme/platform', default_branch: 'main', owner: { login: 'acme', name: 'acme' } },
    pusher: { name: 'alice-gh', email: 'alice@example.com' }, sender: { login: 'alice-gh', id: 583231, type: 'User' },
    created: false, deleted: false, forced: true, base_ref: null, commits: [commit], head_commit: commit,
  }, 'demo-delivery-1', tickets));
  return events;
}
