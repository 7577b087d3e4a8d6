import type { FastifyInstance, FastifyRequest } from 'fastify';
import { recordAdmin } from '../audit.js';
import type { AppContext } from '../context.js';
import { AUTHORIZED_AS, type DeviceActionKind } from '../devices/action.js';
import type { DeviceState } from '../devices/chain.js';
import type { DeviceTracker } from '../devices/tracker.js';
import { ApiError } from '../errors.js';
import { adminActor } from './admin.js';

/** A device as the API shows it (docs/API.md, "Devices"). */
function deviceView(d: DeviceState): Record<string, unknown> {
  return {
    id: d.id,
    user: d.user,
    ...(d.submitter && { submitter: d.submitter }),
    firstSeen: d.firstSeen,
    lastSeen: d.lastSeen,
    lastSeq: d.lastSeq,
    lastIndex: d.lastIndex,
    events: d.events,
    gaps: d.gaps,
    late: d.late,
    ...(d.retired && { retired: d.retired }),
    ...(d.note && { note: d.note }),
  };
}

const MAX_REASON = 1024;
const MAX_NOTE = 256;
/** Controls (C0, DEL, C1) and lone surrogates, which the event schema refuses (in a reason, all but tabs and newlines). */
const BAD_LINE = /\p{Cc}|\p{Cs}/u;

/** The body's `reason`: required for retire and reinstate, optional for a note; tabs and newlines allowed, as in an event's reason. */
function reasonOf(body: Record<string, unknown> | undefined, required: boolean): string | undefined {
  const reason = typeof body?.reason === 'string' ? body.reason.trim() : body?.reason;
  if (reason === undefined || reason === '') {
    if (required) throw new ApiError(400, 'ERR_BAD_REQUEST', 'reason is required: why, in a few words (1 to 1024 characters)');
    return undefined;
  }
  if (typeof reason !== 'string' || reason.length > MAX_REASON || BAD_LINE.test(reason.replace(/[\t\n]/g, ''))) throw new ApiError(400, 'ERR_BAD_REQUEST', `reason: 1 to ${MAX_REASON} characters of text`);
  return reason;
}

/** The body's `note`: 0 to 256 characters on one line; empty clears the note. */
function noteOf(body: Record<string, unknown> | undefined): string {
  const note = typeof body?.note === 'string' ? body.note.trim() : body?.note;
  if (typeof note !== 'string' || note.length > MAX_NOTE || BAD_LINE.test(note)) throw new ApiError(400, 'ERR_BAD_REQUEST', `note: 0 to ${MAX_NOTE} characters on one line (empty clears it)`);
  return note;
}

/**
 * `GET /v1/devices` (scope read): every enrolled device, its user, last seen,
 * last sequence, gaps, and what admins said of it (retired, note).
 *
 * The admin actions (scope admin): `POST /v1/admin/devices/{id}/retire` and
 * `/reinstate` with a required `reason`, `PUT /v1/admin/devices/{id}/note`.
 * Each is a `stele` event `device.<action>` appended first, with the caller
 * as actor; the device table takes it from the log (devices/action.ts), and
 * the answer is the device once the table has it.
 */
export function deviceRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/v1/devices', { onRequest: ctx.guard('read') }, async () => ({ devices: (ctx.devices?.list() ?? []).map(deviceView) }));

  const tracker = (): DeviceTracker => {
    if (!ctx.devices) throw new ApiError(404, 'ERR_NOT_FOUND', 'this collector does not track devices');
    return ctx.devices;
  };
  const { log } = ctx.store;
  // One action at a time, so that the state checked is the state the event changes.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    const done = queue.then(job);
    queue = done.catch(() => undefined);
    return done;
  };

  /** Checks the device against `allowed`, appends the action's event, and answers with the device as the table then has it. */
  const act = (request: FastifyRequest, kind: DeviceActionKind, reason: string | undefined, details: Record<string, unknown>, allowed: (d: DeviceState) => string | undefined) =>
    serial(async () => {
      const devices = tracker();
      const { id } = request.params as { id: string };
      // Whatever is already in the log (another collector's action included) is in the table first.
      if (log.size() > 0) await devices.through(log.size() - 1);
      const device = devices.get(id);
      if (!device) throw new ApiError(404, 'ERR_NOT_FOUND', `no device with id ${id}`);
      const refused = allowed(device);
      if (refused) throw new ApiError(409, 'ERR_DEVICE_STATE', refused);
      const index = await recordAdmin(log, `device.${kind}`, {
        ...adminActor(request.principal!),
        target: { type: 'device', id },
        ...(reason !== undefined && { reason }),
        details: { [AUTHORIZED_AS.key]: AUTHORIZED_AS.value, ...details, lastSeq: device.lastSeq, lastSeen: device.lastSeen },
      });
      await devices.through(index);
      return { device: deviceView(devices.get(id)!), index };
    });

  const admin = { onRequest: ctx.guard('admin') };
  app.post('/v1/admin/devices/:id/retire', admin, async (request) => {
    const reason = reasonOf(request.body as Record<string, unknown> | undefined, true);
    return act(request, 'retire', reason, {}, (d) => (d.retired ? `device ${d.id} is already retired (since ${d.retired.at})` : undefined));
  });
  app.post('/v1/admin/devices/:id/reinstate', admin, async (request) => {
    const reason = reasonOf(request.body as Record<string, unknown> | undefined, true);
    return act(request, 'reinstate', reason, {}, (d) => (d.retired ? undefined : `device ${d.id} is not retired`));
  });
  app.put('/v1/admin/devices/:id/note', admin, async (request) => {
    const body = request.body as Record<string, unknown> | undefined;
    const note = noteOf(body);
    return act(request, 'note', reasonOf(body, false), { note }, () => undefined);
  });
}
