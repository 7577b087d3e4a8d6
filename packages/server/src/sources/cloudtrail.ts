import type { Actor } from '@stele/log';
import {
  actorOf, capValue, clean, digestOf, fitEvent, idPart, objectOf, PayloadError, stringOf, ticketsIn,
  type PayloadProblem, type SourceEvent,
} from './normalize.js';

/**
 * AWS CloudTrail log files (`{"Records":[...]}`), as delivered to S3 or
 * posted to `/v1/sources/cloudtrail`: one Stele event per record, with the
 * record's `eventID` as the idempotency key, so a file read twice appends
 * nothing new. The records are hostile input: every field is checked here.
 */

/** Options of {@link cloudtrailEvents}. */
export interface CloudTrailOptions {
  /** Request parameters and response elements larger than this (canonical JSON bytes) are replaced by their SHA-256. */
  maxObjectBytes: number;
  tickets: readonly RegExp[];
}

/** Keys whose values are credentials and never enter the log as they are (only their digest). */
const SECRET_KEYS = new Set(['sessionToken', 'secretAccessKey', 'password', 'newPassword', 'oldPassword', 'privateKey', 'SAMLResponse', 'webIdentityToken']);
/** STS calls that hand out credentials. */
const STS_PRIVILEGED = new Set(['AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'AssumeRoot', 'GetFederationToken', 'GetSessionToken']);
const READ_ONLY_NAME = /^(Get|List|Describe|Generate|Simulate|Lookup)/;

/** Why a call was privileged, or undefined: IAM changes, STS credentials, anything the root user does. */
export function cloudtrailPrivilege(eventSource: string, eventName: string, identityType: string | undefined, readOnly: unknown): string | undefined {
  if (identityType === 'Root') return 'root';
  if (eventSource === 'iam.amazonaws.com' && readOnly !== true && !READ_ONLY_NAME.test(eventName)) return 'iam';
  if (eventSource === 'sts.amazonaws.com' && STS_PRIVILEGED.has(eventName)) return 'sts';
  return undefined;
}

/** `CreateAccessKey` -> `create_access_key`, `AssumeRoleWithSAML` -> `assume_role_with_saml`. */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** A copy with credential-bearing members replaced by their digests, at any depth. */
function redact(value: unknown, depth = 0): unknown {
  if (depth > 16 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.has(k) && v !== null ? digestOf(v) : redact(v, depth + 1)]));
}

/**
 * The actor a `userIdentity` names: IAM users and the root user by ARN,
 * assumed roles by the session's ARN with the role (session issuer) as their
 * group, IAM Identity Center users by their user id with the identity store
 * as `idp`, AWS services by name. An e-mail-shaped user or session name (as
 * SSO and most federations set it) is also the actor's e-mail.
 */
export function cloudtrailActor(identity: Record<string, unknown>): Actor | undefined {
  const type = stringOf(identity.type);
  const arn = stringOf(identity.arn);
  const issuer = objectOf(objectOf(identity.sessionContext)?.sessionIssuer);
  const onBehalfOf = objectOf(identity.onBehalfOf);
  switch (type) {
    case 'Root':
      return actorOf({ id: arn ?? `arn:aws:iam::${stringOf(identity.accountId) ?? 'unknown'}:root`, name: 'root' });
    case 'IAMUser':
      return actorOf({ id: arn ?? identity.principalId, name: identity.userName });
    case 'AssumedRole':
    case 'FederatedUser': {
      const session = arn?.split('/').pop();
      return actorOf({ id: arn ?? identity.principalId, name: session, groups: stringOf(issuer?.arn) ? [issuer!.arn] : undefined });
    }
    case 'IdentityCenterUser':
      return actorOf({ id: onBehalfOf?.userId ?? identity.principalId, email: identity.userName, name: identity.userName, idp: onBehalfOf?.identityStoreArn });
    case 'AWSService':
      return actorOf({ id: identity.invokedBy ?? 'aws-service' });
    default:
      return actorOf({ id: arn ?? stringOf(identity.userName) ?? identity.principalId ?? identity.invokedBy ?? (identity.accountId && `arn:aws:iam::${String(identity.accountId)}`), email: identity.userName, name: identity.userName });
  }
}

/** What a call was done to: its first resource, else the role, user, policy or bucket its parameters name. */
function targetOf(record: Record<string, unknown>, params: Record<string, unknown> | undefined): { type: string; id: string; name?: string } | undefined {
  const resource = Array.isArray(record.resources) ? objectOf(record.resources[0]) : undefined;
  const type = (t: unknown) => (typeof t === 'string' && /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/.test(t) ? t : undefined);
  if (resource && stringOf(resource.ARN)) return { type: type(resource.type) ?? 'aws', id: clean(resource.ARN, 4096)! };
  const p = params ?? {};
  const pick = (t: string, id: unknown, name?: unknown) => {
    const text = clean(id, 4096);
    return text === undefined ? undefined : { type: t, id: text, ...(clean(name, 1024) !== undefined && { name: clean(name, 1024)! }) };
  };
  return (
    pick('AWS::IAM::Role', p.roleArn, p.roleSessionName) ??
    pick('AWS::IAM::User', p.userName, p.userName) ??
    pick('AWS::IAM::Role', p.roleName, p.roleName) ??
    pick('AWS::IAM::ManagedPolicy', p.policyArn) ??
    pick('AWS::IAM::Group', p.groupName, p.groupName) ??
    pick('AWS::S3::Bucket', p.bucketName, p.bucketName)
  );
}

/**
 * Maps a CloudTrail log file onto Stele events: id `cloudtrail/<eventID>`,
 * action `aws.<service>.<event_name>`, outcome failure when the record has an
 * `errorCode` (or a console login says `Failure`).
 *
 * @param body - the parsed file (hostile)
 * @throws PayloadError when it is not `{"Records":[...]}` or a record lacks what every record has
 */
export function cloudtrailEvents(body: unknown, options: CloudTrailOptions): SourceEvent[] {
  const file = objectOf(body);
  if (!file || !Array.isArray(file.Records)) throw new PayloadError([{ item: -1, field: 'Records', message: 'expected a CloudTrail log file: {"Records":[...]}' }]);
  const problems: PayloadProblem[] = [];
  const events: SourceEvent[] = [];
  file.Records.forEach((raw, item) => {
    const problem = (field: string, message: string) => problems.push({ item, field, message });
    const r = objectOf(raw);
    if (!r) return problem('', 'a record must be an object');
    const eventID = stringOf(r.eventID);
    const eventTime = stringOf(r.eventTime);
    const eventSource = stringOf(r.eventSource);
    const eventName = stringOf(r.eventName);
    const identity = objectOf(r.userIdentity);
    if (!eventID) problem('eventID', 'is required');
    if (!eventTime) problem('eventTime', 'is required');
    if (!eventSource || !/^[a-z0-9.-]{1,128}$/.test(eventSource)) problem('eventSource', 'must be a service host such as iam.amazonaws.com');
    if (!eventName || !/^[A-Za-z0-9_]{1,128}$/.test(eventName)) problem('eventName', 'must be an API name such as CreateAccessKey');
    if (!identity) problem('userIdentity', 'is required');
    const actor = identity && cloudtrailActor(identity);
    if (identity && !actor) problem('userIdentity', 'names nobody (no arn, principalId, userName or invokedBy)');
    if (!eventID || !eventTime || !eventSource || !eventName || !actor || problems.some((p) => p.item === item)) return;

    const service = eventSource.split('.')[0]!.replace(/[^a-z0-9_-]/g, '-');
    const identityType = stringOf(identity!.type);
    const privilege = cloudtrailPrivilege(eventSource, eventName, identityType, r.readOnly);
    const params = objectOf(r.requestParameters);
    const response = objectOf(r.responseElements);
    const loginFailed = eventName === 'ConsoleLogin' && response?.ConsoleLogin === 'Failure';
    const errorCode = stringOf(r.errorCode);
    const errorMessage = stringOf(r.errorMessage);
    // Session names often carry the ticket a person assumed a role for (`alice-INC-42`).
    const session = identityType === 'AssumedRole' ? stringOf(identity!.arn)?.split('/').pop() : undefined;
    const tickets = ticketsIn([params?.description, params?.roleSessionName, session, params?.tags && JSON.stringify(params.tags)], options.tickets);
    const target = targetOf(r, params);
    const issuer = objectOf(objectOf(identity!.sessionContext)?.sessionIssuer);
    const aws: Record<string, unknown> = {
      eventID,
      eventSource,
      eventName,
      ...(typeof r.eventType === 'string' && { eventType: r.eventType }),
      ...(typeof r.eventCategory === 'string' && { eventCategory: r.eventCategory }),
      ...(typeof r.readOnly === 'boolean' && { readOnly: r.readOnly }),
      ...(typeof r.awsRegion === 'string' && { region: r.awsRegion }),
      ...(typeof r.recipientAccountId === 'string' && { accountId: r.recipientAccountId }),
      userIdentity: capValue(redact(identity), 4096),
      ...(issuer && { sessionIssuer: capValue(issuer, 2048) }),
      ...(errorCode && { errorCode }),
      ...(errorMessage && { errorMessage: Array.from(errorMessage).slice(0, 1024).join('') }),
      ...(r.requestParameters !== undefined && r.requestParameters !== null && { requestParameters: capValue(redact(r.requestParameters), options.maxObjectBytes) }),
      ...(r.responseElements !== undefined && r.responseElements !== null && { responseElements: capValue(redact(r.responseElements), options.maxObjectBytes) }),
      ...(r.additionalEventData !== undefined && { additionalEventData: capValue(redact(r.additionalEventData), 2048) }),
      ...(typeof r.sharedEventID === 'string' && { sharedEventID: r.sharedEventID }),
    };
    const details: Record<string, unknown> = {
      ...(privilege && { privileged: true, privilege }),
      ...(tickets.length > 0 && { tickets }),
      operation: eventName,
      service: eventSource,
      ...(typeof r.requestID === 'string' && { requestId: r.requestID }),
      ...(typeof r.sourceIPAddress === 'string' && { sourceIPs: [r.sourceIPAddress] }),
      ...(typeof r.userAgent === 'string' && { userAgent: Array.from(r.userAgent).slice(0, 1024).join('') }),
      ...((errorCode || loginFailed) && { status: { ...(errorCode && { code: errorCode }), ...(errorMessage && { message: Array.from(errorMessage).slice(0, 1024).join('') }) } }),
      aws,
    };
    events.push(
      fitEvent({
        id: `cloudtrail/${idPart(eventID)}`,
        time: eventTime,
        source: 'cloudtrail',
        action: `aws.${service}.${snakeCase(eventName)}`,
        actor: actor!,
        ...(target && { target }),
        outcome: errorCode || loginFailed ? 'failure' : 'success',
        details,
      }),
    );
  });
  if (problems.length > 0) throw new PayloadError(problems);
  return events;
}
