/**
 * Stele records as OCSF 1.3.0 events (the Open Cybersecurity Schema
 * Framework), for SIEMs and data lakes that speak it. Pure and dependency
 * free: the collector (`?format=ocsf`), the CLI (`--format ocsf`) and the
 * console all export with this one function.
 *
 * | records | OCSF class |
 * | --- | --- |
 * | `file.*` | File System Activity (1001) |
 * | `package.*` | Application Lifecycle (6002) |
 * | IAM changes of users, roles, keys, login profiles, MFA, user and role policies | Account Change (3001) |
 * | other IAM changes (managed policies, groups, providers, ...) | Entity Management (3004) |
 * | Kubernetes, CloudTrail, commits, pushes, CloudEvents, and anything else with an `operation` | API Activity (6003) |
 * | the rest (Stele's own events, approvals) | Base Event (0) |
 */
import type { EventRecord } from './event.js';
import { parseTime } from './event.js';

/** The OCSF schema version the export follows. */
export const OCSF_VERSION = '1.3.0';

/** An OCSF event: a JSON object with at least the base event's required attributes. */
export type OcsfEvent = Record<string, unknown> & {
  class_uid: number;
  category_uid: number;
  activity_id: number;
  type_uid: number;
  severity_id: number;
  time: number;
  metadata: Record<string, unknown>;
};

interface Classified {
  class_uid: number;
  class_name: string;
  category_uid: number;
  category_name: string;
  activity_id: number;
  activity_name: string;
}

const CATEGORY: Record<number, string> = { 0: 'Uncategorized', 1: 'System Activity', 3: 'Identity & Access Management', 6: 'Application Activity' };
const CLASS: Record<number, string> = { 0: 'Base Event', 1001: 'File System Activity', 3001: 'Account Change', 3004: 'Entity Management', 6002: 'Application Lifecycle', 6003: 'API Activity' };
const CRUD = ['Unknown', 'Create', 'Read', 'Update', 'Delete'];

function classified(class_uid: number, activity_id: number, activity_name?: string): Classified {
  const category_uid = Math.floor(class_uid / 1000);
  return {
    class_uid,
    class_name: CLASS[class_uid]!,
    category_uid,
    category_name: CATEGORY[category_uid]!,
    activity_id,
    activity_name: activity_name ?? (activity_id === 99 ? 'Other' : (CRUD[activity_id] ?? 'Other')),
  };
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const obj = (value: unknown): Record<string, unknown> | undefined => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined);

/** A verb or API name as a CRUD activity: 1 create, 2 read, 3 update, 4 delete, 99 other. */
export function crudActivity(operation: string): number {
  const op = operation.toLowerCase();
  if (/^(create|put|post|add|attach|upload|run|start|assume|generate|enable|register|import|commit)/.test(op)) return op.startsWith('put') || op.startsWith('attach') ? 3 : 1;
  if (/^(get|list|watch|describe|read|head|lookup|search|select|batchget|consolelogin)/.test(op)) return op === 'consolelogin' ? 99 : 2;
  if (/^(update|patch|modify|set|change|replace|tag|untag|reset|push)/.test(op)) return 3;
  if (/^(delete|deletecollection|remove|detach|terminate|destroy|disable|deactivate|revoke)/.test(op)) return 4;
  return 99;
}

/** Account Change's activity for an IAM API name, or undefined when the call is not one on a user's or role's account. */
function accountChange(eventName: string): number | undefined {
  if (/^Create(User|Role|LoginProfile|AccessKey|ServiceSpecificCredential)$/.test(eventName)) return 1;
  if (/^(Update|Put)(User|Role|AccessKey|RolePermissionsBoundary|UserPermissionsBoundary)$/.test(eventName) || eventName === 'UpdateAssumeRolePolicy') return 99;
  if (eventName === 'ChangePassword' || eventName === 'UpdateLoginProfile') return 3;
  if (/^Delete(User|Role|AccessKey|ServiceSpecificCredential)$/.test(eventName)) return 6;
  if (eventName === 'DeleteLoginProfile') return 5;
  if (/^(Attach|Put)(User|Role)Policy$/.test(eventName)) return 7;
  if (/^(Detach|Delete)(User|Role)Policy$/.test(eventName)) return 8;
  if (eventName === 'EnableMFADevice' || eventName === 'CreateVirtualMFADevice') return 10;
  if (eventName === 'DeactivateMFADevice' || eventName === 'DeleteVirtualMFADevice') return 11;
  return undefined;
}
const ACCOUNT_ACTIVITY: Record<number, string> = { 1: 'Create', 2: 'Enable', 3: 'Password Change', 4: 'Password Reset', 5: 'Disable', 6: 'Delete', 7: 'Attach Policy', 8: 'Detach Policy', 9: 'Lock', 10: 'MFA Factor Enable', 11: 'MFA Factor Disable', 99: 'Other' };

/** Which OCSF class and activity a record is. */
export function ocsfClass(record: EventRecord): Classified {
  const action = record.action;
  const details = record.details ?? {};
  const operation = str(details.operation);
  if (action.startsWith('file.')) {
    const verb = action.slice(5);
    const activity = /^(save|write|update|modify)/.test(verb) ? 3 : verb.startsWith('create') ? 1 : /^(delete|remove)/.test(verb) ? 4 : verb.startsWith('rename') ? 5 : /^(open|visit)/.test(verb) ? 14 : verb.startsWith('read') ? 2 : 99;
    return classified(1001, activity, activity === 5 ? 'Rename' : activity === 14 ? 'Open' : undefined);
  }
  if (action.startsWith('package.')) {
    const verb = action.slice(8);
    const [id, name] = /^install/.test(verb) ? [1, 'Install'] : /^(remove|delete|uninstall)/.test(verb) ? [2, 'Remove'] : /^(update|upgrade)/.test(verb) ? [8, 'Update'] : [99, 'Other'];
    return classified(6002, id as number, name as string);
  }
  const aws = obj(details.aws);
  if (record.source === 'cloudtrail' && str(aws?.eventSource) === 'iam.amazonaws.com' && operation !== undefined && crudActivity(operation) !== 2) {
    const account = accountChange(operation);
    if (account !== undefined) return classified(3001, account, ACCOUNT_ACTIVITY[account]);
    const crud = crudActivity(operation);
    return classified(3004, crud === 99 ? 99 : crud);
  }
  if (action === 'vc.commit') return classified(6003, 1);
  if (action === 'vc.ref.delete') return classified(6003, 4);
  if (action.startsWith('vc.push')) return classified(6003, 3);
  if (operation !== undefined && record.source !== 'slack') return classified(6003, crudActivity(operation));
  return classified(0, 99);
}

/** The OCSF user of a Stele actor. */
function ocsfUser(actor: EventRecord['actor']): Record<string, unknown> {
  return {
    ...(actor.id !== undefined && { uid: actor.id }),
    ...(actor.email !== undefined && { email_addr: actor.email }),
    name: actor.name ?? actor.email ?? actor.id,
    ...(actor.groups && { groups: actor.groups.map((name) => ({ name })) }),
  };
}

/**
 * One stored record as an OCSF event. Every field of the record is kept:
 * what OCSF has no attribute for goes to `unmapped` (the record's `details`,
 * `reason`, `submitter`, `device`, and Stele's index and verification flag).
 */
export function toOcsf(record: EventRecord): OcsfEvent {
  const c = ocsfClass(record);
  const details = record.details ?? {};
  const privileged = details.privileged === true;
  const status = record.outcome === 'success' ? [1, 'Success'] : record.outcome === 'failure' ? [2, 'Failure'] : [0, 'Unknown'];
  const ips = Array.isArray(details.sourceIPs) ? details.sourceIPs.filter((ip): ip is string => typeof ip === 'string') : [];
  const statusDetail = obj(details.status);
  const target = record.target;
  const event: OcsfEvent = {
    ...c,
    type_uid: c.class_uid * 100 + c.activity_id,
    type_name: `${c.class_name}: ${c.activity_name}`,
    severity_id: privileged ? 3 : 1,
    severity: privileged ? 'Medium' : 'Informational',
    time: parseTime(record.time),
    status_id: status[0] as number,
    status: status[1] as string,
    ...(statusDetail?.code !== undefined && { status_code: String(statusDetail.code) }),
    ...(str(statusDetail?.message) && { status_detail: statusDetail!.message }),
    message: record.reason ?? `${record.action}${target ? ` ${target.name ?? target.id ?? target.type}` : ''}`,
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'Stele', vendor_name: 'Stele', feature: { name: record.source } },
      uid: record.id,
      original_time: record.time,
      logged_time: parseTime(record.received),
      log_name: record.source,
      event_code: record.action,
      sequence: record.index,
      ...(privileged && { labels: ['privileged', ...(typeof details.privilege === 'string' ? [details.privilege] : [])] }),
      ...(str(details.requestId) && { correlation_uid: details.requestId }),
    },
    actor: { user: ocsfUser(record.actor), ...(record.actor.idp !== undefined && { idp: { name: record.actor.idp } }) },
    src_endpoint: { ...(ips[0] !== undefined && { ip: ips[0] }), ...(record.host !== undefined && { hostname: record.host }) },
    unmapped: {
      ...(record.reason !== undefined && { reason: record.reason }),
      ...(record.details && { details: record.details }),
      ...(record.submitter && { submitter: record.submitter }),
      ...(record.device && { device: record.device }),
      actor_verified: record.actor.verified,
      ...(record.target && { target: record.target }),
    },
  };
  if (typeof details.userAgent === 'string') event.http_request = { user_agent: details.userAgent };
  const resource = target && { type: target.type, ...(target.id !== undefined && { uid: target.id }), ...(target.name !== undefined && { name: target.name }) };
  switch (c.class_uid) {
    case 1001: {
      const path = target?.id ?? target?.name ?? '';
      event.file = { path, name: target?.name ?? path.split('/').pop() ?? path, type_id: 1, type: 'Regular File' };
      event.device = { type_id: 0, type: 'Unknown', ...(record.host !== undefined && { hostname: record.host }) };
      break;
    }
    case 6002:
      event.app = { name: target?.name ?? target?.id ?? 'unknown', ...(target?.id !== undefined && { uid: target.id }), ...(typeof details.version === 'string' && { version: details.version }) };
      break;
    case 3001: {
      const params = obj(obj(details.aws)?.requestParameters) ?? {};
      const name = str(params.userName) ?? str(params.roleName) ?? target?.name ?? target?.id ?? 'unknown';
      event.user = { name, ...(target?.id !== undefined && { uid: target.id }), ...(str(params.roleName) && { type: 'Role' }) };
      if (str(params.policyArn) || str(params.policyName)) event.policy = { ...(str(params.policyName) && { name: params.policyName }), ...(str(params.policyArn) && { uid: params.policyArn }) };
      break;
    }
    case 3004:
      event.entity = resource ?? { type: 'unknown' };
      if (record.reason !== undefined) event.comment = record.reason;
      break;
    case 6003: {
      const aws = obj(details.aws);
      event.api = {
        operation: str(details.operation) ?? record.action,
        service: { name: str(details.service) ?? record.source },
        ...(str(details.requestId) && { request: { uid: details.requestId } }),
        ...(statusDetail && {
          response: {
            ...(typeof statusDetail.code === 'number' && { code: statusDetail.code }),
            ...(typeof statusDetail.code === 'string' && { error: statusDetail.code }),
            ...(str(statusDetail.message) && { message: statusDetail.message }),
          },
        }),
      };
      if (resource) event.resources = [resource];
      if (aws) event.cloud = { provider: 'AWS', ...(str(aws.region) && { region: aws.region }), ...(str(aws.accountId) && { account: { uid: aws.accountId } }) };
      break;
    }
    default:
      if (resource) event.resources = [resource];
  }
  return event;
}
